import { ProblemError } from './api.js';
import { append, h } from './dom.js';

/**
 * Shows a refusal as the API stated it: the problem's title and detail, the business rule that refused (the contact
 * policy names it in `rule`) and per-field validation messages, rather than a generic "something went wrong".
 */
export function showProblem(area: HTMLElement, error: unknown): void {
  const problem = error instanceof ProblemError
    ? error.problem
    : { type: 'console-error', title: 'The console failed', status: 0, detail: error instanceof Error ? error.message : String(error) };
  area.replaceChildren();
  append(area,
    h('p', { class: 'problem-title' }, h('strong', {}, problem.title)),
    problem.detail ? h('p', { class: 'problem-detail' }, problem.detail) : null,
    problem.rule ? h('p', { class: 'problem-rule' }, 'Rule: ', h('code', {}, problem.rule)) : null,
    problem.errors?.length
      ? h('ul', {}, ...problem.errors.map((e) => h('li', {}, h('code', {}, e.field), `: ${e.messages.join('; ')}`)))
      : null,
    problem.type && problem.status ? h('p', { class: 'problem-type' }, `${problem.status} · `, h('code', {}, problem.type)) : null,
  );
  area.hidden = false;
}

/** An alert region for one form: role=alert announces a refusal the moment it is shown. */
export function problemArea(): HTMLElement {
  return h('div', { class: 'problem', role: 'alert', hidden: true });
}

export function clearProblem(area: HTMLElement): void {
  area.hidden = true;
  area.replaceChildren();
}
