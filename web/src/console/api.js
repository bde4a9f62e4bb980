// The console's only way to the API: JSON requests under /api/v1 with the session's bearer token,
// one refresh when the access token has expired, problem+json turned into ApiError, and a
// Server-Sent Events reader (EventSource cannot send an Authorization header).
const BASE = '/api/v1';
const KEY = 'arches.session';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem && typeof problem === 'object' ? problem : null;
  }
}

let listeners = [];
export function onSessionChange(fn) {
  listeners.push(fn);
  return () => { listeners = listeners.filter((f) => f !== fn); };
}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    return null;
  }
}

function saveSession(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((fn) => fn(s));
}

async function send(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

async function read(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : { title: res.statusText, detail: data });
  return data;
}

let refreshing = null;
/** Exchanges the refresh token once for everyone waiting; false when the session is over. */
function refresh() {
  const s = session();
  if (!s?.refreshToken) return Promise.resolve(false);
  refreshing ??= send('POST', '/auth/refresh', { refreshToken: s.refreshToken })
    .then(read)
    .then((pair) => { saveSession({ ...s, ...pair }); return true; })
    .catch(() => { saveSession(null); return false; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

export async function api(method, path, body) {
  const s = session();
  let res = await send(method, path, body, s?.accessToken);
  if (res.status === 401 && s?.refreshToken && (await refresh())) {
    res = await send(method, path, body, session().accessToken);
  }
  return read(res);
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

export async function signIn(email, password) {
  const pair = await read(await send('POST', '/auth/login', { email, password }));
  const me = await read(await send('GET', '/users/me', undefined, pair.accessToken));
  saveSession({ ...pair, email: me.email, name: me.name, userId: me.id });
  return me;
}

export async function register(name, email, password) {
  await read(await send('POST', '/auth/register', { name, email, password }));
  return signIn(email, password);
}

export async function signOut() {
  const s = session();
  saveSession(null);
  if (s) await send('POST', '/auth/logout', { refreshToken: s.refreshToken }, s.accessToken).catch(() => {});
}

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * Reads a text/event-stream until it ends or {@code signal} aborts, calling onEvent(type, data, id)
 * for each event. Resumes after the last event id when the connection drops mid-run.
 */
export async function streamEvents(path, onEvent, signal) {
  let lastId = null;
  for (let attempt = 0; attempt < 20 && !signal.aborted; attempt++) {
    let res = await openStream(path, lastId, signal);
    if (res.status === 401 && (await refresh())) res = await openStream(path, lastId, signal);
    if (!res.ok) return read(res);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return; // the server ends the stream after the run's final event
        buf += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let type = 'message', data = '', id = null;
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(5).trimStart();
            else if (line.startsWith('id:')) id = line.slice(3).trim();
          }
          if (id) lastId = id;
          if (data) onEvent(type, JSON.parse(data), id);
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      await new Promise((r) => setTimeout(r, 500)); // dropped: resume after lastId
    }
  }
}

function openStream(path, lastId, signal) {
  const headers = { Accept: 'text/event-stream' };
  const token = session()?.accessToken;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (lastId) headers['Last-Event-ID'] = lastId;
  return fetch(BASE + path, { headers, signal });
}
