/** Building DOM nodes without innerHTML: every text the API returns (names, summaries) is set as text, never parsed. */

export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | boolean | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

let ids = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${++ids}`;

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A control with its visible <label>, which is also its accessible name. */
export function field(label: string, control: Control, hint?: string): HTMLElement {
  control.id ||= uniqueId('f');
  const hintId = hint ? uniqueId('hint') : undefined;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hint ? h('small', { id: hintId }, hint) : null);
}

export function select(name: string, options: readonly string[], selected?: string): HTMLSelectElement {
  const element = h('select', { name });
  for (const option of options) element.appendChild(h('option', { value: option, selected: option === selected }, option));
  return element;
}

/** A form named by its heading (role form needs an accessible name). */
export function namedForm(title: string, ...children: Child[]): { section: HTMLElement; form: HTMLFormElement } {
  const headingId = uniqueId('h');
  const form = h('form', { 'aria-labelledby': headingId, novalidate: false }, ...children);
  return { section: h('section', { class: 'card' }, h('h3', { id: headingId }, title), form), form };
}

export function clear(element: Element): void {
  element.replaceChildren();
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : dateTime.format(new Date(ms));
}

export function time(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso }, formatInstant(iso));
}
