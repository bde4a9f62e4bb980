// Starts Redoc (its standalone bundle, loaded just before this script from this server) on the
// platform's OpenAPI document.
import './docs.css';

const { Redoc } = window;
const el = document.getElementById('redoc');
Redoc.init(el.dataset.spec, {
  expandResponses: '200,201,202',
  jsonSampleExpandLevel: 3,
  hideDownloadButton: false,
  pathInMiddlePanel: true,
  theme: {
    colors: { primary: { main: '#1f3a5f' } },
    typography: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
      headings: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' } },
    sidebar: { width: '280px' },
  },
}, el);
