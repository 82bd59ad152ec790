/**
 * Strict XML reading for SAML: one parser configuration, namespace constants and the few DOM walks
 * that metadata and assertions share. Whatever is refused here is refused before any field is read.
 */
import { DOMParser } from '@xmldom/xmldom';

export const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

// DOM node types (numeric: the project compiles without the DOM globals).
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

/** Why a document was refused before any field was read; the message never quotes the input. */
export class XmlRefusal extends Error {
  override readonly name = 'XmlRefusal';
}

/**
 * Parses a whole document, refusing document type declarations first: entity expansion ("billion
 * laughs") and external entities (XXE) need one (SAML core §6.4 / saml-sec-consider §6.3.1).
 * Parser errors and warnings both refuse: there is no "mostly well-formed" SAML.
 */
export function parseStrictXml(text: string): Document {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlRefusal('document type declarations are not accepted');
  const fail = (): never => {
    throw new XmlRefusal('not well-formed XML');
  };
  const parser = new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } });
  let doc: Document;
  try {
    doc = parser.parseFromString(text, 'text/xml');
  } catch (error) {
    if (error instanceof XmlRefusal) throw error;
    throw new XmlRefusal('not well-formed XML');
  }
  if (!doc?.documentElement) throw new XmlRefusal('not well-formed XML');
  return doc;
}

export function isElement(node: Node | null | undefined): node is Element {
  return node?.nodeType === ELEMENT_NODE;
}

export function is(element: Element, namespace: string, localName: string): boolean {
  return element.namespaceURI === namespace && element.localName === localName;
}

/** Element children of `parent`, optionally only those with the given namespace and local name. */
export function childElements(parent: Element, namespace?: string, localName?: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (!isElement(node)) continue;
    if (namespace !== undefined && localName !== undefined && !is(node, namespace, localName)) continue;
    found.push(node);
  }
  return found;
}

/** The one child with that name, or undefined when there is none or more than one. */
export function onlyChild(parent: Element, namespace: string, localName: string): Element | undefined {
  const found = childElements(parent, namespace, localName);
  return found.length === 1 ? found[0] : undefined;
}

/** Every element of the subtree (the root included), in document order. */
export function descendants(root: Element): Element[] {
  const found: Element[] = [root];
  for (let i = 0; i < found.length; i++) found.push(...childElements(found[i]!));
  return found;
}

/** Whether the subtree holds a comment or a processing instruction anywhere. */
export function hasCommentOrInstruction(root: Element): boolean {
  const pending: Node[] = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    if (node.nodeType === COMMENT_NODE || node.nodeType === PROCESSING_INSTRUCTION_NODE) return true;
    for (let child = node.firstChild; child; child = child.nextSibling) pending.push(child);
  }
  return false;
}

/**
 * The full text content of a simple element: every text and CDATA child joined, so no reader can
 * take only the part before an inserted node (the CVE-2017-11427 class). Comments are skipped, as
 * exclusive canonicalisation drops them (assertions refuse them outright before reading). An
 * element child makes the value not simple: undefined.
 */
export function simpleText(element: Element): string | undefined {
  let text = '';
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === TEXT_NODE || node.nodeType === CDATA_SECTION_NODE) text += node.nodeValue ?? '';
    else if (node.nodeType !== COMMENT_NODE) return undefined;
  }
  return text.trim();
}

/** An attribute's value, or undefined when absent (xmldom answers '' for both). */
export function attribute(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? element.getAttribute(name)! : undefined;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]00:00)$/;

/** An xs:dateTime in UTC (SAML core §1.3.3 requires UTC) as epoch ms, or undefined. */
export function utcInstant(value: string | undefined): number | undefined {
  if (value === undefined || !DATE_TIME.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
