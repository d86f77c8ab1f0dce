/**
 * `/api/docs`: the OpenAPI document rendered as one self-contained HTML page (inline CSS, no
 * scripts, no CDN), so it works on closed networks. Rendered once at startup from the document.
 */

import { FAVICON_PATH } from '../favicon-route.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function obj(value: Json | undefined): Obj {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function str(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** Follows a local `#/components/...` reference. */
function resolve(doc: Obj, value: Json | undefined): Obj {
  const ref = str(obj(value).$ref);
  if (!ref.startsWith('#/')) return obj(value);
  let node: Json | undefined = doc;
  for (const part of ref.slice(2).split('/')) node = obj(node)[part];
  return obj(node);
}

function refName(value: Json | undefined): string {
  const ref = str(obj(value).$ref);
  return ref ? ref.slice(ref.lastIndexOf('/') + 1) : '';
}

function schemaLabel(schema: Json | undefined): string {
  const s = obj(schema);
  const name = refName(s);
  if (name) return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  if (s.type === 'array') return `array of ${schemaLabel(s.items)}`;
  const type = Array.isArray(s.type) ? s.type.join(' | ') : str(s.type) || 'any';
  const details = ['minimum', 'maximum', 'default', 'enum', 'pattern'].filter((k) => s[k] !== undefined).map((k) => `${k} ${JSON.stringify(s[k])}`);
  return escapeHtml(details.length ? `${type} (${details.join(', ')})` : type);
}

function renderOperation(doc: Obj, path: string, method: string, operation: Obj, shared: Json[]): string {
  const params = [...shared, ...((operation.parameters as Json[] | undefined) ?? [])].map((p) => resolve(doc, p));
  const paramRows = params
    .map((p) => `<tr><td><code>${escapeHtml(str(p.name))}</code></td><td>${escapeHtml(str(p.in))}</td><td>${schemaLabel(p.schema)}</td><td>${escapeHtml(str(p.description))}</td></tr>`)
    .join('');
  const body = obj(obj(obj(operation.requestBody).content)['application/json']).schema;
  const responses = Object.entries(obj(operation.responses))
    .map(([code, raw]) => {
      const response = obj(raw);
      const content = Object.entries(obj(response.content))
        .map(([type, media]) => `<code>${escapeHtml(type)}</code> ${schemaLabel(obj(media).schema)}`)
        .join('<br>');
      const headers = Object.keys(obj(response.headers)).map((h) => `<code>${escapeHtml(h)}</code>`).join(' ');
      return `<tr><td><b>${escapeHtml(code)}</b></td><td>${escapeHtml(str(response.description))}</td><td>${content}</td><td>${headers}</td></tr>`;
    })
    .join('');
  return `<section class="op" id="${escapeHtml(str(operation.operationId))}">
<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> — ${escapeHtml(str(operation.summary))}</h3>
<p>${escapeHtml(str(operation.description))}</p>
${paramRows ? `<table><tr><th>Parameter</th><th>In</th><th>Schema</th><th>Description</th></tr>${paramRows}</table>` : ''}
${body ? `<p>Request body: <code>application/json</code> ${schemaLabel(body)}</p>` : ''}
<table><tr><th>Status</th><th>Meaning</th><th>Body</th><th>Headers</th></tr>${responses}</table>
</section>`;
}

export function renderDocsPage(document: unknown): string {
  const doc = obj(document as Json);
  const info = obj(doc.info);
  const operations: string[] = [];
  for (const [path, rawItem] of Object.entries(obj(doc.paths))) {
    const item = obj(rawItem);
    const shared = (item.parameters as Json[] | undefined) ?? [];
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      if (item[method]) operations.push(renderOperation(doc, path, method, obj(item[method]), shared));
    }
  }
  const schemas = Object.entries(obj(obj(doc.components).schemas))
    .map(([name, schema]) => `<h3 id="schema-${escapeHtml(name)}">${escapeHtml(name)}</h3><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<title>${escapeHtml(str(info.title))}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2rem auto;padding:0 1rem;color:#1d232a}
code,pre{font-family:ui-monospace,Menlo,monospace;font-size:13px}pre{background:#f4f6f8;padding:.75rem;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #d8dee4;padding:.3rem .5rem;text-align:left;vertical-align:top}
.op{border-top:1px solid #d8dee4;padding-top:.5rem}.method{display:inline-block;min-width:4.5em;text-align:center;color:#fff;border-radius:3px;padding:0 .3em}
.get{background:#2f7d32}.post{background:#1565c0}.delete{background:#c62828}.put,.patch{background:#ef6c00}
</style></head><body>
<h1>${escapeHtml(str(info.title))} <small>${escapeHtml(str(info.version))}</small></h1>
<p>${escapeHtml(str(info.description))}</p>
<p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${escapeHtml(str(doc.openapi))})</p>
<h2>Endpoints</h2>
${operations.join('\n')}
<h2>Schemas</h2>
${schemas}
</body></html>`;
}
