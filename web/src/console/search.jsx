import { useState } from 'preact/hooks';
import { post } from './api.js';
import { Field, Problem, Tags, splitTags, useAction } from './ui.jsx';

/** The snippet with the query's words marked (text only: nothing is parsed as HTML). */
function Highlight({ text, query }) {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]{3,}/gu) || [];
  if (!words.length) return text;
  const re = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'giu');
  return text.split(re).map((part, i) => (i % 2 ? <mark key={i}>{part}</mark> : part));
}

const score = (v) => (v === null || v === undefined ? '—' : v.toFixed(3));

export function SearchPage({ org }) {
  const [q, setQ] = useState({ query: '', mode: 'hybrid', tags: '', type: '', limit: '10', threshold: '' });
  const [result, setResult] = useState(null);
  const [asked, setAsked] = useState('');
  const act = useAction();
  const set = (k) => (e) => setQ({ ...q, [k]: e.currentTarget.value });
  const search = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { query: q.query, mode: q.mode, limit: Number(q.limit) || 10 };
      const filters = {};
      const tags = splitTags(q.tags);
      if (tags.length) filters.tags = tags;
      if (q.type.trim()) filters.type = q.type.trim();
      if (Object.keys(filters).length) body.filters = filters;
      if (q.threshold !== '') body.threshold = Number(q.threshold);
      setResult(await post(`/organizations/${encodeURIComponent(org)}/content/search`, body));
      setAsked(q.query);
    });
  };
  return (
    <section>
      <h1>Search</h1>
      <form class="card search-form" onSubmit={search} aria-label="Search content">
        <div class="search-row">
          <Field label="Query" id="search-query">
            <input id="search-query" type="search" required value={q.query} onInput={set('query')} placeholder="What are you looking for?" />
          </Field>
          <Field label="Mode" id="search-mode">
            <select id="search-mode" value={q.mode} onChange={set('mode')}>
              <option value="hybrid">hybrid</option>
              <option value="semantic">semantic</option>
              <option value="keyword">keyword</option>
            </select>
          </Field>
          <button type="submit" disabled={act.busy}>Search</button>
        </div>
        <div class="search-row filters">
          <Field label="Tags (all of)" id="search-tags"><input id="search-tags" value={q.tags} onInput={set('tags')} placeholder="intro, guide" /></Field>
          <Field label="Type" id="search-type"><input id="search-type" value={q.type} onInput={set('type')} placeholder="any" /></Field>
          <Field label="Limit" id="search-limit"><input id="search-limit" type="number" min="1" max="100" value={q.limit} onInput={set('limit')} /></Field>
          <Field label="Min score" id="search-threshold"><input id="search-threshold" type="number" min="0" max="1" step="0.01" value={q.threshold} onInput={set('threshold')} /></Field>
        </div>
      </form>
      <Problem error={act.error} />
      {result && (
        <div class="results" aria-live="polite">
          <p class="muted">
            {result.data.length} result{result.data.length === 1 ? '' : 's'} · mode {result.mode} · {result.tookMs} ms
            {result.truncated && ' · truncated'}
          </p>
          {result.data.length === 0 && <p>Nothing matched “{asked}”.</p>}
          <ol class="hits">
            {result.data.map((h) => (
              <li key={h.id} class="hit">
                <div class="hit-head">
                  <a href={`#/orgs/${encodeURIComponent(org)}/content/${h.id}`}>{h.title}</a>
                  <span class="score" title="score on the scale of the mode">{score(h.score)}</span>
                </div>
                <p class="snippet"><Highlight text={h.snippet || ''} query={asked} /></p>
                <div class="hit-foot">
                  <Tags tags={h.tags} />
                  <span class="muted">semantic {score(h.semanticScore)} · keyword {score(h.keywordScore)}</span>
                </div>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
