import { useState } from 'preact/hooks';
import { del, get, patch, post } from './api.js';
import { Field, Loading, Problem, useAction, useLoad, when } from './ui.jsx';

const ROLES = ['owner', 'admin', 'member', 'viewer'];
const KEY_ROLES = ['admin', 'member', 'viewer'];
const RANK = { owner: 4, admin: 3, member: 2, viewer: 1 };

function slugify(s) {
  return s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
}

export function Organizations() {
  const list = useLoad(() => get('/organizations?limit=100'), []);
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugEdited, setSlugEdited] = useState(false);
  const { error, busy, run } = useAction();
  const create = (e) => {
    e.preventDefault();
    run(async () => {
      const org = await post('/organizations', { name: name.trim(), slug: slug || slugify(name) });
      location.hash = `#/orgs/${encodeURIComponent(org.slug)}/content`;
    });
  };
  return (
    <section>
      <h1>Organizations</h1>
      <div class="grid-2">
        <div class="card">
          <h2>Yours</h2>
          {list.loading && !list.data ? <Loading /> : <Problem error={list.error} />}
          {list.data && list.data.data.length === 0 && <p class="muted">You are in no organization yet: create one.</p>}
          <ul class="org-list">
            {list.data?.data.map((o) => (
              <li key={o.id}>
                <a href={`#/orgs/${encodeURIComponent(o.slug)}/content`}>{o.name}</a>
                <span class="muted"> /{o.slug}</span>
                <span class={`role role-${o.role}`}>{o.role}</span>
              </li>
            ))}
          </ul>
        </div>
        <form class="card stack" onSubmit={create} aria-labelledby="new-org">
          <h2 id="new-org">New organization</h2>
          <Field label="Name" id="org-name">
            <input id="org-name" required value={name} onInput={(e) => {
              setName(e.currentTarget.value);
              if (!slugEdited) setSlug(slugify(e.currentTarget.value));
            }} />
          </Field>
          <Field label="Slug" id="org-slug" hint="Lower-case letters, digits and hyphens; used in URLs.">
            <input id="org-slug" required value={slug} onInput={(e) => { setSlug(e.currentTarget.value); setSlugEdited(true); }} />
          </Field>
          <Problem error={error} />
          <button type="submit" disabled={busy}>Create organization</button>
        </form>
      </div>
    </section>
  );
}

export function OrganizationPage({ org, user }) {
  const base = `/organizations/${encodeURIComponent(org)}`;
  const info = useLoad(() => get(base), [org]);
  const members = useLoad(() => get(`${base}/members?limit=100`), [org]);
  const role = info.data?.role;
  const manages = RANK[role] >= RANK.admin;
  const keys = useLoad(() => (manages ? get(`${base}/api-keys?limit=100`) : Promise.resolve(null)), [org, manages]);
  const act = useAction();
  const [email, setEmail] = useState('');
  const [memberRole, setMemberRole] = useState('member');
  const [keyName, setKeyName] = useState('');
  const [keyRole, setKeyRole] = useState('member');
  const [keyExpiry, setKeyExpiry] = useState('');
  const [secret, setSecret] = useState(null);

  const addMember = (e) => {
    e.preventDefault();
    act.run(async () => {
      await post(`${base}/members`, { email: email.trim(), role: memberRole });
      setEmail('');
      members.reload();
    });
  };
  const changeRole = (m, r) => act.run(async () => {
    await patch(`${base}/members/${m.userId}`, { role: r });
    members.reload();
  });
  const removeMember = (m) => confirm(`Remove ${m.email} from ${org}?`) && act.run(async () => {
    await del(`${base}/members/${m.userId}`);
    members.reload();
  });
  const createKey = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { name: keyName.trim(), role: keyRole };
      if (keyExpiry) body.expiresAt = new Date(keyExpiry).toISOString();
      const k = await post(`${base}/api-keys`, body);
      setSecret(k);
      setKeyName('');
      keys.reload();
    });
  };
  const revoke = (k) => confirm(`Revoke the key ${k.name}?`) && act.run(async () => {
    await del(`${base}/api-keys/${k.id}`);
    keys.reload();
  });

  if (info.error) return <Problem error={info.error} />;
  if (!info.data) return <Loading />;
  return (
    <section>
      <h1>{info.data.name} <span class="muted small">/{info.data.slug} · you are {role}</span></h1>
      <Problem error={act.error} />
      <div class="card">
        <h2>Members</h2>
        <Problem error={members.error} />
        <table>
          <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Joined</th><th /></tr></thead>
          <tbody>
            {members.data?.data.map((m) => (
              <tr key={m.userId}>
                <td>{m.name}{m.userId === user.userId && <span class="muted"> (you)</span>}</td>
                <td>{m.email}</td>
                <td>
                  {manages ? (
                    <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => changeRole(m, e.currentTarget.value)}>
                      {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                    </select>
                  ) : <span class={`role role-${m.role}`}>{m.role}</span>}
                </td>
                <td>{when(m.joinedAt)}</td>
                <td>{manages && <button type="button" class="ghost danger" onClick={() => removeMember(m)}>Remove</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {manages && (
          <form class="inline" onSubmit={addMember} aria-label="Add a member">
            <Field label="Email of a registered user" id="member-email">
              <input id="member-email" type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            </Field>
            <Field label="Role" id="member-role">
              <select id="member-role" value={memberRole} onChange={(e) => setMemberRole(e.currentTarget.value)}>
                {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </Field>
            <button type="submit" disabled={act.busy}>Add member</button>
          </form>
        )}
      </div>
      {manages && (
        <div class="card">
          <h2>API keys</h2>
          {secret && (
            <div class="secret" role="status">
              <strong>New key “{secret.name}”:</strong> copy it now, it is not shown again.
              <code class="block">{secret.key}</code>
              <button type="button" class="ghost" onClick={() => setSecret(null)}>Done</button>
            </div>
          )}
          <Problem error={keys.error} />
          {keys.data?.data.length === 0 && <p class="muted">No keys yet.</p>}
          {keys.data?.data.length > 0 && (
            <table>
              <thead><tr><th>Name</th><th>Prefix</th><th>Role</th><th>Created</th><th>Last used</th><th>Expires</th><th /></tr></thead>
              <tbody>
                {keys.data.data.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td><td><code>{k.prefix}…</code></td>
                    <td><span class={`role role-${k.role}`}>{k.role}</span></td>
                    <td>{when(k.createdAt)}</td><td>{when(k.lastUsedAt)}</td><td>{k.expiresAt ? when(k.expiresAt) : 'never'}</td>
                    <td><button type="button" class="ghost danger" onClick={() => revoke(k)}>Revoke</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <form class="inline" onSubmit={createKey} aria-label="Create an API key">
            <Field label="Key name" id="key-name">
              <input id="key-name" required value={keyName} onInput={(e) => setKeyName(e.currentTarget.value)} />
            </Field>
            <Field label="Role" id="key-role">
              <select id="key-role" value={keyRole} onChange={(e) => setKeyRole(e.currentTarget.value)}>
                {KEY_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </Field>
            <Field label="Expires (optional)" id="key-expiry">
              <input id="key-expiry" type="datetime-local" value={keyExpiry} onInput={(e) => setKeyExpiry(e.currentTarget.value)} />
            </Field>
            <button type="submit" disabled={act.busy}>Create key</button>
          </form>
        </div>
      )}
    </section>
  );
}
