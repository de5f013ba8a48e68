// The HTML of GET /docs. Plain DOM code, no framework, no external asset.
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ferry API</title>
<style>
  :root { --fg:#1d2430; --muted:#5b6675; --line:#dde2e8; --bg:#f6f8fa; --accent:#1f6feb; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); }
  header { padding:16px 24px; border-bottom:1px solid var(--line); display:flex; gap:16px; align-items:center; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  main { padding:16px 24px; max-width:1100px; }
  input, textarea, select, button { font:inherit; }
  input[type=password], input[type=text] { padding:4px 8px; border:1px solid var(--line); border-radius:4px; }
  button { padding:4px 12px; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:4px; cursor:pointer; }
  h2 { font-size:16px; margin:24px 0 8px; text-transform:capitalize; }
  details.op { border:1px solid var(--line); border-radius:6px; margin:6px 0; }
  details.op > summary { padding:6px 10px; cursor:pointer; display:flex; gap:10px; align-items:baseline; }
  .method { font:600 12px ui-monospace, monospace; text-transform:uppercase; min-width:56px; }
  .get{color:#1a7f37} .post{color:#1f6feb} .patch{color:#9a6700} .put{color:#8250df} .delete{color:#cf222e}
  .path { font-family:ui-monospace, monospace; }
  .summary { color:var(--muted); }
  .body { padding:8px 12px 12px; border-top:1px solid var(--line); }
  pre { background:var(--bg); padding:8px; border-radius:4px; overflow:auto; max-height:360px; margin:4px 0; }
  table { border-collapse:collapse; margin:4px 0; }
  td, th { border:1px solid var(--line); padding:2px 8px; text-align:left; vertical-align:top; }
  textarea { width:100%; min-height:80px; font-family:ui-monospace, monospace; }
  .muted { color:var(--muted); }
  .error { color:#cf222e; }
</style>
</head>
<body>
<header>
  <h1>Ferry control API</h1>
  <label>API key <input id="key" type="password" autocomplete="off" size="40" placeholder="an API key"></label>
  <button id="load">Load</button>
  <span id="state" class="muted"></span>
</header>
<main id="main"><p class="muted">Enter an API key to load the API description (/openapi.json).</p></main>
<script>
(function () {
  var keyInput = document.getElementById('key');
  var stateEl = document.getElementById('state');
  var main = document.getElementById('main');
  var spec = null;
  keyInput.value = sessionStorage.getItem('ferry.apiKey') || '';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function resolve(schema, depth) {
    if (!schema || depth > 6) return schema;
    if (schema.$ref) {
      var name = schema.$ref.split('/').pop();
      return resolve(spec.components.schemas[name], depth + 1);
    }
    if (Array.isArray(schema)) return schema.map(function (s) { return resolve(s, depth + 1); });
    if (typeof schema !== 'object') return schema;
    var out = {};
    Object.keys(schema).forEach(function (k) { out[k] = resolve(schema[k], depth + 1); });
    return out;
  }
  function headers(json) {
    var h = { Authorization: 'Bearer ' + keyInput.value };
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }
  function operation(path, method, op) {
    var body = el('div', { class: 'body' });
    if (op.description) body.append(el('p', {}, [op.description]));
    var params = (op.parameters || []).map(function (p) { return resolve(p, 0); });
    var inputs = {};
    if (params.length) {
      var table = el('table', {}, [el('tr', {}, [el('th', {}, ['parameter']), el('th', {}, ['in']), el('th', {}, ['value'])])]);
      params.forEach(function (p) {
        var input = el('input', { type: 'text', placeholder: p.required ? 'required' : '' });
        inputs[p.in + ':' + p.name] = input;
        table.append(el('tr', {}, [el('td', {}, [p.name]), el('td', {}, [p.in]), el('td', {}, [input])]));
      });
      body.append(table);
    }
    var reqSchema = op.requestBody && op.requestBody.content && op.requestBody.content['application/json'];
    var textarea = null;
    if (reqSchema) {
      body.append(el('div', { class: 'muted' }, ['Request body (application/json)']));
      body.append(el('pre', {}, [JSON.stringify(resolve(reqSchema.schema, 0), null, 2)]));
      textarea = el('textarea', { placeholder: '{ }' });
      body.append(textarea);
    }
    body.append(el('div', { class: 'muted' }, ['Responses']));
    Object.keys(op.responses || {}).forEach(function (status) {
      var r = op.responses[status];
      var media = r.content && r.content['application/json'];
      var block = el('details', {}, [el('summary', {}, [status + ' ' + (r.description || '')])]);
      if (media) block.append(el('pre', {}, [JSON.stringify(resolve(media.schema, 0), null, 2)]));
      body.append(block);
    });
    var result = el('pre', { class: 'muted' }, ['']);
    var send = el('button', {}, ['Send']);
    send.addEventListener('click', function () {
      var url = path.replace(/\\{([^}]+)\\}/g, function (_, name) {
        var input = inputs['path:' + name];
        return encodeURIComponent(input ? input.value : '');
      });
      var query = new URLSearchParams();
      params.forEach(function (p) {
        var input = inputs[p.in + ':' + p.name];
        if (p.in === 'query' && input && input.value) query.set(p.name, input.value);
      });
      if (String(query)) url += '?' + query;
      var init = { method: method.toUpperCase(), headers: headers(Boolean(textarea && textarea.value)) };
      if (textarea && textarea.value) init.body = textarea.value;
      result.textContent = '...';
      fetch(url, init).then(function (res) {
        return res.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
          result.textContent = res.status + ' ' + res.statusText + '\\n' + shown;
        });
      }, function (err) { result.textContent = String(err); });
    });
    body.append(el('p', {}, [send]));
    body.append(result);
    return el('details', { class: 'op' }, [
      el('summary', {}, [
        el('span', { class: 'method ' + method }, [method]),
        el('span', { class: 'path' }, [path]),
        el('span', { class: 'summary' }, [op.summary || '']),
      ]),
      body,
    ]);
  }
  function render() {
    main.textContent = '';
    if (spec.info && spec.info.description) main.append(el('p', {}, [spec.info.description]));
    var groups = {};
    Object.keys(spec.paths).sort().forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || 'other';
        (groups[tag] = groups[tag] || []).push(operation(path, method, op));
      });
    });
    Object.keys(groups).sort().forEach(function (tag) {
      main.append(el('h2', {}, [tag]));
      groups[tag].forEach(function (node) { main.append(node); });
    });
  }
  function load() {
    sessionStorage.setItem('ferry.apiKey', keyInput.value);
    stateEl.textContent = 'loading...';
    stateEl.className = 'muted';
    fetch('/openapi.json', { headers: headers(false) }).then(function (res) {
      if (!res.ok) throw new Error(res.status === 401 ? 'API key refused' : 'HTTP ' + res.status);
      return res.json();
    }).then(function (json) {
      spec = json;
      stateEl.textContent = (spec.info ? spec.info.title + ' ' + spec.info.version : '') + ' - OpenAPI ' + spec.openapi;
      render();
    }, function (err) {
      stateEl.textContent = String(err.message || err);
      stateEl.className = 'error';
    });
  }
  document.getElementById('load').addEventListener('click', load);
  keyInput.addEventListener('keydown', function (e) { if (e.key === 'Enter') load(); });
  if (keyInput.value) load();
})();
</script>
</body>
</html>
`;
