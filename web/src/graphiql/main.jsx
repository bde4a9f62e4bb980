// GraphiQL on the platform's GraphQL endpoint, from local assets only. Monaco's workers are
// scripts built beside this one (build.mjs passes their hashed URLs in ARCHES_MONACO_WORKERS).
import 'graphiql/style.css';
import './graphiql.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    const urls = ARCHES_MONACO_WORKERS;
    return new Worker(urls[label] ?? urls.editor);
  },
};

const el = document.getElementById('graphiql');
// A console session in this tab signs GraphiQL's requests in too.
let headers;
try {
  const saved = JSON.parse(sessionStorage.getItem('arches.session') || 'null');
  if (saved?.accessToken) headers = JSON.stringify({ Authorization: `Bearer ${saved.accessToken}` }, null, 2);
} catch { /* no session */ }

const fetcher = createGraphiQLFetcher({ url: el.dataset.endpoint });
createRoot(el).render(<GraphiQL fetcher={fetcher} initialHeaders={headers} defaultEditorToolsVisibility={headers ? 'headers' : false} />);
