// YAML highlighting for the app's lab editor, from the yaml library's own lexer (the parser
// `lab validate` uses), so the colours follow exactly how the file is read. The lexer is
// lossless: the pieces put together are the text, which the editor overlays on its textarea.
import { CST, Lexer } from 'yaml';

export type TokenClass = 'key' | 'string' | 'literal' | 'comment' | 'punct' | 'plain';

export interface Piece {
  text: string;
  cls: TokenClass;
}

/** Markers the lexer emits without text: where a document, a plain scalar or a flow ends. */
const MARKERS = new Set(['\u0002', '\u0018', '\u001f', '\ufeff']);

const LITERAL = /^(-?\d+(\.\d+)?|true|false|null|~)$/;

export function highlightYaml(text: string): Piece[] {
  const tokens = [...new Lexer().lex(text)];
  const pieces: Piece[] = [];
  let scalarNext = false;
  tokens.forEach((tok, i) => {
    if (MARKERS.has(tok)) {
      scalarNext = tok === '\u001f';
      return;
    }
    const type = CST.tokenType(tok);
    let cls: TokenClass = 'plain';
    if (scalarNext || type === 'single-quoted-scalar' || type === 'double-quoted-scalar') {
      // A scalar followed by `:` (spaces between) is a key.
      let j = i + 1;
      while (j < tokens.length && CST.tokenType(tokens[j]!) === 'space') j++;
      if (tokens[j] === ':') cls = 'key';
      else if (scalarNext && LITERAL.test(tok)) cls = 'literal';
      else cls = 'string';
    } else if (type === 'comment') cls = 'comment';
    else if (type !== 'space' && type !== 'newline' && type !== null) cls = 'punct';
    scalarNext = false;
    const last = pieces[pieces.length - 1];
    if (last && last.cls === cls) last.text += tok;
    else pieces.push({ text: tok, cls });
  });
  return pieces;
}
