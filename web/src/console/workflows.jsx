import { useEffect, useState } from 'preact/hooks';
import { get, patch, post, qs, streamEvents } from './api.js';
import { Field, Loading, Problem, Status, parseJson, useAction, useLoad, when } from './ui.jsx';

const EXAMPLE = {
  nodes: [
    { id: 'greet', type: 'tool', tool: 'transform', config: { value: { message: 'Hello, {{input.name}}' } } },
    { id: 'wait', type: 'tool', tool: 'delay', config: { ms: 400 } },
    { id: 'shout', type: 'tool', tool: 'transform', config: { value: { loud: '{{steps.greet.message}}!' } } },
    { id: 'done', type: 'tool', tool: 'transform', config: { value: { greeting: '{{steps.shout.loud}}' } } },
  ],
  edges: [
    { from: 'greet', to: 'wait' }, { from: 'greet', to: 'shout' },
    { from: 'wait', to: 'done' }, { from: 'shout', to: 'done' },
  ],
};

const NODE_W = 150, NODE_H = 46, GAP_X = 60, GAP_Y = 22;

/** Layers by longest path from a source, so every edge points right; rows in definition order. */
function layout(def) {
  const preds = new Map(def.nodes.map((n) => [n.id, []]));
  for (const e of def.edges) preds.get(e.to)?.push(e.from);
  const layer = new Map();
  const depth = (id, seen = new Set()) => {
    if (layer.has(id)) return layer.get(id);
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...(preds.get(id) || []).map((p) => depth(p, seen))) + 1;
    layer.set(id, d);
    return d;
  };
  def.nodes.forEach((n) => depth(n.id));
  const rows = [];
  const pos = new Map();
  for (const n of def.nodes) {
    const l = layer.get(n.id);
    rows[l] = (rows[l] || 0) + 1;
    pos.set(n.id, { x: 10 + l * (NODE_W + GAP_X), y: 10 + (rows[l] - 1) * (NODE_H + GAP_Y) });
  }
  const height = Math.max(...rows.filter(Boolean)) * (NODE_H + GAP_Y) - GAP_Y + 20;
  const width = rows.length * (NODE_W + GAP_X) - GAP_X + 20;
  // Centre short columns against the tallest one.
  for (const n of def.nodes) {
    const l = layer.get(n.id);
    const colHeight = rows[l] * (NODE_H + GAP_Y) - GAP_Y;
    pos.get(n.id).y += (height - 20 - colHeight) / 2;
  }
  return { pos, width, height };
}

/** The workflow's DAG as SVG; with {@code steps}, each node is coloured by its step's status. */
export function Dag({ definition, steps }) {
  const { pos, width, height } = layout(definition);
  const status = new Map((steps || []).map((s) => [s.nodeId, s.status]));
  return (
    <svg class="dag" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img"
      aria-label={`Workflow graph: ${definition.nodes.length} nodes, ${definition.edges.length} edges`}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="dag-arrow" />
        </marker>
      </defs>
      {definition.edges.map((e) => {
        const a = pos.get(e.from), b = pos.get(e.to);
        if (!a || !b) return null;
        const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x - 2, y2 = b.y + NODE_H / 2, mx = (x1 + x2) / 2;
        return <path key={e.from + '>' + e.to} class="dag-edge" d={`M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`} marker-end="url(#arrow)" />;
      })}
      {definition.nodes.map((n) => {
        const p = pos.get(n.id);
        const s = status.get(n.id);
        return (
          <g key={n.id} class={`dag-node${s ? ' step-' + s : ''}`} transform={`translate(${p.x} ${p.y})`} data-node={n.id} data-status={s}>
            <title>{`${n.id}: ${n.type === 'tool' ? n.tool : n.type}${s ? ' — ' + s : ''}`}</title>
            <rect width={NODE_W} height={NODE_H} rx="8" />
            <text x="12" y="19" class="dag-id">{n.id.length > 18 ? n.id.slice(0, 17) + '…' : n.id}</text>
            <text x="12" y="36" class="dag-tool">{n.type === 'tool' ? n.tool : n.type}{s ? ` · ${s}` : ''}</text>
          </g>
        );
      })}
    </svg>
  );
}

export function WorkflowList({ org }) {
  const base = `/organizations/${encodeURIComponent(org)}`;
  const [cursors, setCursors] = useState([null]);
  const cursor = cursors[cursors.length - 1];
  const list = useLoad(() => get(`${base}/workflows` + qs({ limit: 20, cursor })), [org, cursor]);
  const runs = useLoad(() => get(`${base}/runs?limit=10`), [org]);
  return (
    <section>
      <div class="head">
        <h1>Workflows</h1>
        <a class="button" href={`#/orgs/${encodeURIComponent(org)}/workflows/new`}>New workflow</a>
      </div>
      <Problem error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data?.data.length === 0 && <p class="muted">No workflows yet.</p>}
      {list.data?.data.length > 0 && (
        <table>
          <thead><tr><th>Name</th><th>Status</th><th>Nodes</th><th>Edges</th><th>Updated</th></tr></thead>
          <tbody>
            {list.data.data.map((w) => (
              <tr key={w.id}>
                <td><a href={`#/orgs/${encodeURIComponent(org)}/workflows/${w.id}`}>{w.name}</a>
                  {w.description && <div class="excerpt">{w.description}</div>}</td>
                <td><Status value={w.status} /></td><td>{w.nodeCount}</td><td>{w.edgeCount}</td>
                <td class="nowrap">{when(w.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(cursors.length > 1 || list.data?.nextCursor) && (
        <div class="pager">
          <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>← Newer</button>
          <button type="button" class="secondary" disabled={!list.data?.nextCursor} onClick={() => setCursors([...cursors, list.data.nextCursor])}>Older →</button>
        </div>
      )}
      <h2>Recent runs</h2>
      <RunTable org={org} runs={runs} />
    </section>
  );
}

function RunTable({ org, runs }) {
  if (runs.error) return <Problem error={runs.error} />;
  if (!runs.data) return <Loading />;
  if (!runs.data.data.length) return <p class="muted">No runs yet.</p>;
  return (
    <table class="runs">
      <thead><tr><th>Run</th><th>Status</th><th>Progress</th><th>Started</th><th>Finished</th></tr></thead>
      <tbody>
        {runs.data.data.map((r) => (
          <tr key={r.id}>
            <td><a href={`#/orgs/${encodeURIComponent(org)}/runs/${r.id}`}><code>{r.id.slice(0, 8)}</code></a></td>
            <td><Status value={r.status} /></td>
            <td><progress max="1" value={r.progress} aria-label="progress" /> {Math.round(r.progress * 100)}%</td>
            <td class="nowrap">{when(r.startedAt || r.createdAt)}</td>
            <td class="nowrap">{when(r.finishedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function WorkflowEditor({ org, id }) {
  const base = `/organizations/${encodeURIComponent(org)}/workflows`;
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [definition, setDefinition] = useState(JSON.stringify(EXAMPLE, null, 2));
  const act = useAction();
  let preview = null;
  try {
    const d = JSON.parse(definition);
    if (Array.isArray(d.nodes) && d.nodes.length && Array.isArray(d.edges)) preview = d;
  } catch { /* shown when saved */ }
  const save = (e) => {
    e.preventDefault();
    act.run(async () => {
      const body = { name: name.trim(), description, definition: parseJson(definition, 'Definition') };
      const w = id ? await patch(`${base}/${id}`, body) : await post(base, body);
      location.hash = `#/orgs/${encodeURIComponent(org)}/workflows/${w.id}`;
    });
  };
  return (
    <form class="stack wide" onSubmit={save} aria-labelledby="wf-editor-title">
      <p class="crumbs"><a href={`#/orgs/${encodeURIComponent(org)}/workflows`}>Workflows</a> /</p>
      <h1 id="wf-editor-title">New workflow</h1>
      <Field label="Name" id="wf-name"><input id="wf-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} /></Field>
      <Field label="Description" id="wf-description"><input id="wf-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} /></Field>
      <div class="grid-2">
        <Field label="Definition (JSON: nodes and edges)" id="wf-definition"
          hint="Tools: delay, fail, transform, extract, chunk, search, summarize, create-content, http. Templates: {{input.x}}, {{steps.node.x}}.">
          <textarea id="wf-definition" class="mono" rows="22" value={definition} onInput={(e) => setDefinition(e.currentTarget.value)} />
        </Field>
        <div>
          <span class="label">Preview</span>
          <div class="dag-box">{preview ? <Dag definition={preview} /> : <p class="muted">Not a valid definition yet.</p>}</div>
        </div>
      </div>
      <Problem error={act.error} />
      <div class="actions"><button type="submit" disabled={act.busy}>Create workflow</button></div>
    </form>
  );
}

export function WorkflowView({ org, id }) {
  const base = `/organizations/${encodeURIComponent(org)}`;
  const wf = useLoad(() => get(`${base}/workflows/${id}`), [org, id]);
  const runs = useLoad(() => get(`${base}/runs` + qs({ workflowId: id, limit: 20 })), [org, id]);
  const [input, setInput] = useState('{\n  "name": "Ada"\n}');
  const act = useAction();
  if (wf.error) return <Problem error={wf.error} />;
  if (!wf.data) return <Loading />;
  const w = wf.data;
  const start = (e) => {
    e.preventDefault();
    act.run(async () => {
      const run = await post(`${base}/workflows/${id}/runs`, { input: parseJson(input, 'Input') ?? {} });
      location.hash = `#/orgs/${encodeURIComponent(org)}/runs/${run.id}`;
    });
  };
  const setStatus = (status) => act.run(async () => { await patch(`${base}/workflows/${id}`, { status }); wf.reload(); });
  return (
    <section>
      <p class="crumbs"><a href={`#/orgs/${encodeURIComponent(org)}/workflows`}>Workflows</a> /</p>
      <div class="head">
        <h1>{w.name} <Status value={w.status} /></h1>
        <label class="inline-select">Status{' '}
          <select value={w.status} onChange={(e) => setStatus(e.currentTarget.value)}>
            {['draft', 'active', 'paused', 'archived'].map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </label>
      </div>
      {w.description && <p>{w.description}</p>}
      <div class="card dag-box"><Dag definition={w.definition} /></div>
      <div class="grid-2">
        <form class="card stack" onSubmit={start} aria-labelledby="start-run">
          <h2 id="start-run">Start a run</h2>
          <Field label="Input (JSON object)" id="run-input">
            <textarea id="run-input" class="mono" rows="5" value={input} onInput={(e) => setInput(e.currentTarget.value)} />
          </Field>
          <Problem error={act.error} />
          <button type="submit" disabled={act.busy}>Start run</button>
        </form>
        <div class="card">
          <h2>Runs</h2>
          <RunTable org={org} runs={runs} />
        </div>
      </div>
    </section>
  );
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function RunView({ org, id }) {
  const base = `/organizations/${encodeURIComponent(org)}`;
  const [run, setRun] = useState(null);
  const [workflow, setWorkflow] = useState(null);
  const [error, setError] = useState(null);
  const [live, setLive] = useState(false);
  const [events, setEvents] = useState(0);
  const act = useAction();
  useEffect(() => {
    const ctl = new AbortController();
    let current = null;
    (async () => {
      try {
        current = await get(`${base}/runs/${id}`);
        setRun(current);
        get(`${base}/workflows/${current.workflowId}`).then(setWorkflow, () => {});
        if (FINAL.has(current.status)) return;
        setLive(true);
        await streamEvents(`${base}/runs/${id}/events`, (type, data) => {
          setEvents((n) => n + 1);
          setRun((r) => {
            if (type === 'run') return { ...r, ...data, steps: r.steps };
            if (type === 'step') {
              const steps = (r.steps || []).map((s) => (s.nodeId === data.nodeId ? { ...s, ...data } : s));
              if (!steps.some((s) => s.nodeId === data.nodeId)) steps.push(data);
              return { ...r, steps };
            }
            return r;
          });
        }, ctl.signal);
        if (!ctl.signal.aborted) setRun(await get(`${base}/runs/${id}`)); // the final word, with outputs
      } catch (e) {
        if (!ctl.signal.aborted) setError(e);
      } finally {
        if (!ctl.signal.aborted) setLive(false);
      }
    })();
    return () => ctl.abort();
  }, [org, id]);
  if (error) return <Problem error={error} />;
  if (!run) return <Loading />;
  const cancel = () => act.run(async () => { await post(`${base}/runs/${id}/cancel`); });
  return (
    <section>
      <p class="crumbs">
        <a href={`#/orgs/${encodeURIComponent(org)}/workflows`}>Workflows</a> /{' '}
        {workflow && <><a href={`#/orgs/${encodeURIComponent(org)}/workflows/${workflow.id}`}>{workflow.name}</a> /</>}
      </p>
      <div class="head">
        <h1>Run <code>{id.slice(0, 8)}</code> <span class={`status status-${run.status}`} data-testid="run-status">{run.status}</span></h1>
        <div class="actions">
          <span class={live ? 'live on' : 'live'} aria-live="polite">{live ? `● live (${events} events)` : `${events} events`}</span>
          {!FINAL.has(run.status) && <button type="button" class="ghost danger" onClick={cancel} disabled={act.busy}>Cancel run</button>}
        </div>
      </div>
      <Problem error={act.error} />
      <p><progress max="1" value={run.progress} aria-label="run progress" /> {Math.round(run.progress * 100)}% · started {when(run.startedAt)} · finished {when(run.finishedAt)}</p>
      {run.error && <div class="problem" role="alert"><strong>Run failed</strong><div class="problem-detail">{run.error}</div></div>}
      {workflow && <div class="card dag-box"><Dag definition={workflow.definition} steps={run.steps} /></div>}
      <table class="steps">
        <thead><tr><th>Step</th><th>Tool</th><th>Status</th><th>Attempts</th><th>Started</th><th>Finished</th><th>Output / error</th></tr></thead>
        <tbody>
          {(run.steps || []).map((s) => (
            <tr key={s.nodeId} data-step={s.nodeId}>
              <td><code>{s.nodeId}</code></td><td>{s.tool || '—'}</td><td><Status value={s.status} /></td><td>{s.attempts}</td>
              <td class="nowrap">{when(s.startedAt)}</td><td class="nowrap">{when(s.finishedAt)}</td>
              <td class="output">{s.error ? <span class="error-text">{s.error}</span>
                : s.output !== null && s.output !== undefined ? <code>{JSON.stringify(s.output)}</code> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="grid-2">
        <div><span class="label">Input</span><code class="block">{JSON.stringify(run.input, null, 2)}</code></div>
        <div><span class="label">Output</span><code class="block">{run.output ? JSON.stringify(run.output, null, 2) : '—'}</code></div>
      </div>
    </section>
  );
}
