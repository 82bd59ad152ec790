/**
 * HTML for the admin console, built only through the `html` tagged template: every interpolated
 * value is escaped unless it is itself `Html`, so text from clients, the directory or mapping files
 * never becomes markup (OWASP XSS prevention, rule 1). Arrays are joined; null, undefined and false
 * render as nothing, so `${cond && html`...`}` reads naturally.
 */
const HTML_TEXT = Symbol('html');

export interface Html {
  readonly [HTML_TEXT]: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && HTML_TEXT in value;
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (isHtml(value)) return value[HTML_TEXT];
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let text = strings[0] ?? '';
  for (let index = 0; index < values.length; index += 1) {
    text += render(values[index]) + (strings[index + 1] ?? '');
  }
  return { [HTML_TEXT]: text };
}

/** Markup the program wrote itself (never client or directory text), taken as is. */
export function trustedHtml(markup: string): Html {
  return { [HTML_TEXT]: markup };
}

/** The final text of a page or fragment. */
export function htmlText(fragment: Html): string {
  return fragment[HTML_TEXT];
}
