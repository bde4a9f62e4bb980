import { useEffect, useState } from 'preact/hooks';
import { del, get, patch, post, qs } from './api.js';
import { Field, Loading, Problem, Status, Tags, parseJson, splitTags, useAction, useLoad, when } from './ui.jsx';

const PAGE = 20;

export function ContentList({ org, hash }) {
  const base = `/organizations/${encodeURIComponent(org)}/content`;
  const tag = new URLSearchParams(hash.split('?')[1] || '').get('tag') || '';
  // Cursors of the pages walked so far: [null (first page), next, next...]; back pops one.
  const [cursors, setCursors] = useState([null]);
  const [tagInput, setTagInput] = useState(tag);
  useEffect(() => { setCursors([null]); setTagInput(tag); }, [org, tag]);
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => get(base + qs({ limit: PAGE, tag, cursor })), [org, tag, cursor]);
  const filter = (t) => { location.hash = `#/orgs/${encodeURIComponent(org)}/content${t ? '?tag=' + encodeURIComponent(t) : ''}`; };
  return (
    <section>
      <div class="head">
        <h1>Content</h1>
        <a class="button" href={`#/orgs/${encodeURIComponent(org)}/content/new`}>New document</a>
      </div>
      <form class="inline filter" onSubmit={(e) => { e.preventDefault(); filter(tagInput.trim()); }} aria-label="Filter by tag">
        <Field label="Tag" id="content-tag">
          <input id="content-tag" value={tagInput} placeholder="any tag" onInput={(e) => setTagInput(e.currentTarget.value)} />
        </Field>
        <button type="submit" class="secondary">Filter</button>
        {tag && <button type="button" class="ghost" onClick={() => filter('')}>Clear “{tag}”</button>}
      </form>
      <Problem error={page.error} />
      {page.loading && !page.data && <Loading />}
      {page.data && page.data.data.length === 0 && (
        <p class="muted">{tag ? `No document is tagged “${tag}”.` : 'No documents yet.'}</p>
      )}
      {page.data?.data.length > 0 && (
        <table class="content-table">
          <thead><tr><th>Title</th><th>Tags</th><th>Type</th><th>Embedding</th><th>Updated</th></tr></thead>
          <tbody>
            {page.data.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`#/orgs/${encodeURIComponent(org)}/content/${c.id}`}>{c.title}</a>
                  <div class="excerpt">{c.excerpt}</div>
                </td>
                <td><Tags tags={c.tags} onPick={filter} /></td>
                <td>{c.type}</td>
                <td><Status value={c.embeddingStatus} /></td>
                <td class="nowrap">{when(c.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="pager">
        <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button type="button" class="secondary" disabled={!page.data?.nextCursor}
          onClick={() => setCursors([...cursors, page.data.nextCursor])}>Older →</button>
      </div>
    </section>
  );
}

export function ContentView({ org, id }) {
  const path = `/organizations/${encodeURIComponent(org)}/content/${id}`;
  const doc = useLoad(() => get(path), [org, id]);
  const act = useAction();
  if (doc.error) return <Problem error={doc.error} />;
  if (!doc.data) return <Loading />;
  const c = doc.data;
  const remove = () => confirm(`Delete “${c.title}”?`) && act.run(async () => {
    await del(path);
    location.hash = `#/orgs/${encodeURIComponent(org)}/content`;
  });
  const embed = () => act.run(async () => { await post(`${path}/embed`); doc.reload(); });
  return (
    <article>
      <p class="crumbs"><a href={`#/orgs/${encodeURIComponent(org)}/content`}>Content</a> /</p>
      <div class="head">
        <h1>{c.title}</h1>
        <div class="actions">
          <a class="button" href={`#/orgs/${encodeURIComponent(org)}/content/${id}/edit`}>Edit</a>
          <button type="button" class="secondary" onClick={embed} disabled={act.busy}>Re-embed</button>
          <button type="button" class="ghost danger" onClick={remove} disabled={act.busy}>Delete</button>
        </div>
      </div>
      <Problem error={act.error} />
      <dl class="meta">
        <dt>Tags</dt><dd>{c.tags.length ? <Tags tags={c.tags} /> : '—'}</dd>
        <dt>Type</dt><dd>{c.type} · {c.mimeType}</dd>
        <dt>Embedding</dt><dd><Status value={c.embeddingStatus} /></dd>
        <dt>Created</dt><dd>{when(c.createdAt)}</dd>
        <dt>Updated</dt><dd>{when(c.updatedAt)}</dd>
        {Object.keys(c.metadata).length > 0 && <><dt>Metadata</dt><dd><code class="block">{JSON.stringify(c.metadata, null, 2)}</code></dd></>}
      </dl>
      <div class="body card">{c.body || <span class="muted">(empty body)</span>}</div>
    </article>
  );
}

export function ContentEditor({ org, id }) {
  const base = `/organizations/${encodeURIComponent(org)}/content`;
  const existing = useLoad(() => (id ? get(`${base}/${id}`) : Promise.resolve(null)), [org, id]);
  const [form, setForm] = useState(null);
  const act = useAction();
  useEffect(() => {
    if (id && existing.data) {
      const c = existing.data;
      setForm({ title: c.title, body: c.body, tags: c.tags.join(', '), type: c.type,
        metadata: Object.keys(c.metadata).length ? JSON.stringify(c.metadata, null, 2) : '' });
    } else if (!id) {
      setForm({ title: '', body: '', tags: '', type: 'document', metadata: '' });
    }
  }, [id, existing.data]);
  if (existing.error) return <Problem error={existing.error} />;
  if (!form) return <Loading />;
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  const save = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { title: form.title, body: form.body, tags: splitTags(form.tags), type: form.type || 'document' };
      body.metadata = parseJson(form.metadata, 'Metadata') ?? {};
      const saved = id ? await patch(`${base}/${id}`, body) : await post(base, body);
      location.hash = `#/orgs/${encodeURIComponent(org)}/content/${saved.id}`;
    });
  };
  return (
    <form class="stack wide" onSubmit={save} aria-labelledby="editor-title">
      <p class="crumbs"><a href={`#/orgs/${encodeURIComponent(org)}/content`}>Content</a> /</p>
      <h1 id="editor-title">{id ? 'Edit document' : 'New document'}</h1>
      <Field label="Title" id="doc-title">
        <input id="doc-title" required value={form.title} onInput={set('title')} />
      </Field>
      <Field label="Body" id="doc-body">
        <textarea id="doc-body" rows="12" value={form.body} onInput={set('body')} />
      </Field>
      <div class="grid-2">
        <Field label="Tags" id="doc-tags" hint="Comma-separated.">
          <input id="doc-tags" value={form.tags} onInput={set('tags')} />
        </Field>
        <Field label="Type" id="doc-type">
          <input id="doc-type" value={form.type} onInput={set('type')} />
        </Field>
      </div>
      <Field label="Metadata (JSON object)" id="doc-metadata">
        <textarea id="doc-metadata" class="mono" rows="4" value={form.metadata} placeholder='{"source": "manual"}' onInput={set('metadata')} />
      </Field>
      <Problem error={act.error} />
      <div class="actions">
        <button type="submit" disabled={act.busy}>{id ? 'Save changes' : 'Create document'}</button>
        <a class="button ghost" href={`#/orgs/${encodeURIComponent(org)}/content${id ? '/' + id : ''}`}>Cancel</a>
      </div>
    </form>
  );
}
