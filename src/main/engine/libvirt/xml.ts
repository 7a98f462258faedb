// Domain XML in and out. Out: built with fast-xml-parser's builder from plain objects, so every
// value a user typed (names, paths, the kernel command line) is escaped by the builder and never
// spliced into markup. In: the XML is untrusted (a file from anywhere, or a remote libvirt's
// dumpxml): its size is bounded, a document type (and so any entity definition) is refused before
// parsing, and only the five predefined entities and character references are decoded, once.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { HangarError } from '../../../shared/errors';

/** A real domain XML is a few KiB; a megabyte is already absurd. */
export const MAX_DOMAIN_XML = 1 << 20;
/** libvirt nests a disk's backing chain; 16 links plus the domain's own depth fits well within. */
const MAX_DEPTH = 64;

export type XNode = Record<string, unknown>;

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
  suppressBooleanAttributes: false,
});

export function buildXml(root: XNode): string {
  return String(builder.build(root));
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** One pass, so "&amp;lt;" stays "&lt;" rather than becoming "<"; unknown names are an error. */
export function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]{1,10});/g, (whole, name: string) => {
    if (name in PREDEFINED) return PREDEFINED[name]!;
    const m = /^#(x[0-9a-fA-F]{1,6}|[0-9]{1,7})$/.exec(name);
    if (m) {
      const code = m[1]!.startsWith('x') ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        throw new HangarError('INVALID_INPUT', `The XML has an invalid character reference ${whole}.`);
      return String.fromCodePoint(code);
    }
    throw new HangarError('INVALID_INPUT', `The XML uses an undefined entity ${whole}.`);
  });
}

const decode = (_name: string, value: unknown): unknown =>
  typeof value === 'string' ? decodeEntities(value) : value;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  // Entities are decoded by decodeEntities above, never by the parser: a document type is refused
  // before parsing, so no definition can expand.
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
  tagValueProcessor: decode,
  attributeValueProcessor: decode,
});

/** Parses untrusted XML into plain objects; attributes are "@_name", text is "#text". */
export function parseUntrustedXml(xml: string, what = 'domain XML'): XNode {
  if (Buffer.byteLength(xml) > MAX_DOMAIN_XML)
    throw new HangarError(
      'INVALID_INPUT',
      `The ${what} is larger than ${MAX_DOMAIN_XML / 1024} KiB; a domain description is never that big.`,
    );
  if (/<!DOCTYPE|<!ENTITY/i.test(xml))
    throw new HangarError(
      'INVALID_INPUT',
      `The ${what} declares a document type; Hangar refuses it (entities could expand without bound ` +
        'or name local files).',
    );
  try {
    return parser.parse(xml, true) as XNode;
  } catch (err) {
    if (err instanceof HangarError) throw err;
    throw new HangarError('INVALID_INPUT', `The ${what} is not well-formed XML: ${(err as Error).message}`);
  }
}

/** Always a list, whether the element occurred once, many times or not at all. */
export const list = (x: unknown): XNode[] =>
  Array.isArray(x)
    ? (x.filter((v) => v !== null && v !== undefined) as unknown[]).map(asNode)
    : x === undefined || x === null
      ? []
      : [asNode(x)];

/** An element that has only text parses as a string; as a node it is { "#text": ... }. */
function asNode(x: unknown): XNode {
  return typeof x === 'object' && x !== null ? (x as XNode) : { '#text': String(x) };
}

export function one(node: XNode | undefined, name: string): XNode | undefined {
  return list(node?.[name])[0];
}

export function attr(node: XNode | undefined, name: string): string | undefined {
  const v = node?.[`@_${name}`];
  return v === undefined || v === null ? undefined : String(v);
}

export function text(node: XNode | undefined): string | undefined {
  const v = node?.['#text'];
  return v === undefined || v === null ? undefined : String(v);
}

/** The names of an element's child elements (not its attributes or text). */
export function childNames(node: XNode | undefined): string[] {
  return Object.keys(node ?? {}).filter((k) => !k.startsWith('@_') && k !== '#text');
}
