// The Arches console: a hash-routed single page over the public API (no server-side routes).
import './console.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onSessionChange, session, signOut, get } from './api.js';
import { SignIn, Register } from './auth.jsx';
import { Organizations, OrganizationPage } from './orgs.jsx';
import { ContentList, ContentEditor, ContentView } from './content.jsx';
import { SearchPage } from './search.jsx';
import { WorkflowList, WorkflowEditor, WorkflowView, RunView } from './workflows.jsx';

function useHash() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** The route's page and the organization it is in, if any. */
function route(hash) {
  const parts = hash.replace(/^#\/?/, '').split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
  const [a, org, section, id, extra] = parts;
  if (a === 'register') return { page: 'register' };
  if (a !== 'orgs') return { page: 'orgs' };
  if (!org) return { page: 'orgs' };
  if (!section) return { page: 'org', org };
  if (section === 'content' && id === 'new') return { page: 'content-new', org };
  if (section === 'content' && id && extra === 'edit') return { page: 'content-edit', org, id };
  if (section === 'content' && id) return { page: 'content-view', org, id };
  if (section === 'content') return { page: 'content', org };
  if (section === 'search') return { page: 'search', org };
  if (section === 'workflows' && id === 'new') return { page: 'workflow-new', org };
  if (section === 'workflows' && id) return { page: 'workflow', org, id };
  if (section === 'workflows') return { page: 'workflows', org };
  if (section === 'runs' && id) return { page: 'run', org, id };
  return { page: 'org', org };
}

/** The organization tab each page belongs to. */
const SECTION = {
  org: '', content: 'content', 'content-new': 'content', 'content-edit': 'content', 'content-view': 'content',
  search: 'search', workflows: 'workflows', 'workflow-new': 'workflows', workflow: 'workflows', run: 'workflows',
};

function Shell({ r, user, children }) {
  const [orgs, setOrgs] = useState([]);
  useEffect(() => {
    get('/organizations?limit=100').then((p) => setOrgs(p.data), () => setOrgs([]));
  }, [user, r.org]);
  const active = SECTION[r.page];
  const tab = (section, label) => {
    const href = `#/orgs/${encodeURIComponent(r.org)}${section ? '/' + section : ''}`;
    const current = active === section;
    return <a href={href} class={current ? 'tab current' : 'tab'} aria-current={current ? 'page' : undefined}>{label}</a>;
  };
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/orgs"><span class="logo" aria-hidden="true" />Arches</a>
        {r.org && (
          <label class="org-switch">
            <span class="sr-only">Organization</span>
            <select value={r.org} onChange={(e) => { location.hash = `#/orgs/${encodeURIComponent(e.currentTarget.value)}/content`; }}>
              {!orgs.some((o) => o.slug === r.org) && <option value={r.org}>{r.org}</option>}
              {orgs.map((o) => <option key={o.id} value={o.slug}>{o.name}</option>)}
            </select>
          </label>
        )}
        <nav class="links">
          <a href="/docs">API reference</a>
          <a href="/graphiql">GraphiQL</a>
        </nav>
        <span class="who" title={user.email}>{user.name || user.email}</span>
        <button type="button" class="ghost" onClick={() => signOut()}>Sign out</button>
      </header>
      {r.org && (
        <nav class="tabs" aria-label="Organization">
          {tab('content', 'Content')}
          {tab('search', 'Search')}
          {tab('workflows', 'Workflows')}
          {tab('', 'Members & keys')}
        </nav>
      )}
      <main>{children}</main>
    </div>
  );
}

function App() {
  const hash = useHash();
  const [user, setUser] = useState(session());
  useEffect(() => onSessionChange(setUser), []);
  const r = route(hash);
  if (!user) {
    return (
      <main class="auth">
        <div class="auth-card">
          <h1 class="brand-lg"><span class="logo" aria-hidden="true" />Arches</h1>
          {r.page === 'register' ? <Register /> : <SignIn />}
        </div>
        <p class="auth-links"><a href="/docs">API reference</a> · <a href="/graphiql">GraphiQL</a></p>
      </main>
    );
  }
  let page;
  switch (r.page) {
    case 'org': page = <OrganizationPage org={r.org} user={user} />; break;
    case 'content': page = <ContentList org={r.org} hash={hash} />; break;
    case 'content-new': page = <ContentEditor org={r.org} />; break;
    case 'content-edit': page = <ContentEditor org={r.org} id={r.id} />; break;
    case 'content-view': page = <ContentView org={r.org} id={r.id} />; break;
    case 'search': page = <SearchPage org={r.org} />; break;
    case 'workflows': page = <WorkflowList org={r.org} />; break;
    case 'workflow-new': page = <WorkflowEditor org={r.org} />; break;
    case 'workflow': page = <WorkflowView org={r.org} id={r.id} />; break;
    case 'run': page = <RunView org={r.org} id={r.id} />; break;
    default: page = <Organizations />;
  }
  return <Shell r={r} user={user}>{page}</Shell>;
}

render(<App />, document.getElementById('app'));
