// The REST API's reference, read from /openapi.json and shown as text.
//
// Every description and schema goes in through textContent (dom.js's h), so
// the document's text can never become markup; schemas are shown as JSON.

import { byId, h } from './dom.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** A schema with its $refs resolved (to a depth: recursive schemas stay references). */
function resolve(schema, document, depth = 0) {
  if (Array.isArray(schema)) return schema.map((item) => resolve(item, document, depth));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    if (depth > 6) return { $ref: schema.$ref };
    const target = schema.$ref.slice(2).split('/').reduce((node, key) => node?.[key], document);
    return resolve(target ?? {}, document, depth + 1);
  }
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [key, resolve(value, document, depth)]),
  );
}

function schemaBlock(schema, document) {
  return h('pre', { class: 'code-area' }, JSON.stringify(resolve(schema, document), null, 2));
}

function parameters(operation, document) {
  const list = operation.parameters ?? [];
  if (!list.length) return null;
  return [
    h('h4', {}, 'Parameters'),
    h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'in'), h('th', {}, 'type'),
        h('th', {}, 'required'), h('th', {}, 'description'))),
      h('tbody', {}, list.map((parameter) => {
        const schema = resolve(parameter.schema ?? {}, document);
        const type = schema.type ?? (schema.anyOf ?? []).map((s) => s.type).join(' | ');
        return h('tr', {},
          h('td', {}, h('code', {}, parameter.name)), h('td', {}, parameter.in),
          h('td', {}, type || ''), h('td', {}, parameter.required ? 'yes' : 'no'),
          h('td', {}, parameter.description ?? schema.description ?? ''));
      }))),
  ];
}

function body(operation, document) {
  const content = operation.requestBody?.content;
  if (!content) return null;
  return [h('h4', {}, 'Request body'), Object.entries(content).map(([type, media]) => [
    h('p', {}, h('code', {}, type)), media.schema ? schemaBlock(media.schema, document) : null,
  ])];
}

function responses(operation, document) {
  return [h('h4', {}, 'Responses'), Object.entries(operation.responses ?? {}).map(
    ([status, answer]) => {
      const content = Object.entries(answer.content ?? {});
      return h('div', { class: 'docs-response' },
        h('p', {}, h('strong', {}, status), ' ', answer.description ?? ''),
        content.map(([type, media]) => [
          h('p', {}, h('code', {}, type)),
          media.schema && Object.keys(media.schema).length ? schemaBlock(media.schema, document) : null,
        ]));
    },
  )];
}

function operationCard(method, path, operation, document, index) {
  const id = `op-${index}`;
  const title = `${method.toUpperCase()} ${path}`;
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title` }, h('code', {}, title)),
    operation.summary ? h('p', {}, h('strong', {}, operation.summary)) : null,
    operation.description ? h('p', { class: 'docs-description' }, operation.description) : null,
    parameters(operation, document),
    body(operation, document),
    responses(operation, document));
}

async function start() {
  try {
    const response = await fetch('/openapi.json');
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const document = await response.json();
    byId('docs-summary').textContent = `${document.info?.title ?? ''} ${document.info?.version ?? ''}: ${document.info?.summary ?? ''}`;
    const groups = new Map();
    let index = 0;
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const tag = operation.tags?.[0] ?? 'other';
        if (!groups.has(tag)) groups.set(tag, []);
        groups.get(tag).push(operationCard(method, path, operation, document, index));
        byId('docs-contents').append(h('li', {}, h('a', { href: `#op-${index}` }, `${method.toUpperCase()} ${path}`)));
        index += 1;
      }
    }
    for (const [tag, cards] of groups) {
      byId('docs-operations').append(h('h2', {}, tag), ...cards);
    }
  } catch (error) {
    byId('docs-error').textContent = `Could not read the API's description: ${error.message}.`;
    byId('docs-error').hidden = false;
  }
}

start();
