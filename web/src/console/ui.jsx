// Small shared pieces: problem display, data loading, forms, tags, dates.
import { useCallback, useEffect, useState } from 'preact/hooks';

/** An API error as the problem+json said it: title, detail, and each field's message. */
export function Problem({ error }) {
  if (!error) return null;
  const p = error.problem;
  return (
    <div class="problem" role="alert">
      <strong>{p?.title || 'Request failed'}{error.status ? ` (${error.status})` : ''}</strong>
      <div class="problem-detail">{p?.detail || error.message}</div>
      {p?.errors?.length > 0 && (
        <ul>{p.errors.map((e) => <li key={e.field + e.message}><code>{e.field}</code> {e.message}</li>)}</ul>
      )}
    </div>
  );
}

/** Loads with fn() when deps change; reload() loads again. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const load = useCallback(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }));
    return () => { live = false; };
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

/** Runs an async action for a form, keeping its error and busy state. */
export function useAction() {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run, setError };
}

export function Field({ label, id, children, hint }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint && <small class="hint">{hint}</small>}
    </div>
  );
}

export function Tags({ tags, onPick }) {
  if (!tags?.length) return null;
  return (
    <span class="tags">
      {tags.map((t) => onPick
        ? <button type="button" class="tag" key={t} onClick={() => onPick(t)}>{t}</button>
        : <span class="tag" key={t}>{t}</span>)}
    </span>
  );
}

export function Status({ value }) {
  return <span class={`status status-${value}`}>{value}</span>;
}

export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function Loading() {
  return <p class="muted" aria-live="polite">Loading…</p>;
}

/** Parses JSON typed into a textarea, naming the field when it is not valid. */
export function parseJson(text, field) {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    const err = new Error(`${field} is not valid JSON: ${e.message}`);
    err.problem = { title: 'Invalid JSON', detail: `${field} is not valid JSON: ${e.message}` };
    throw err;
  }
}

export function splitTags(text) {
  return text.split(',').map((t) => t.trim()).filter(Boolean);
}
