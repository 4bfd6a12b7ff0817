// Parses Mermaid diagrams with Mermaid's own parser (mermaid.parse), headless: jsdom gives
// DOMPurify the window it needs in Node. Reads a JSON array of diagram texts on stdin, writes a
// JSON array of {ok, type, error} to stdout. Used by tests/test_markdown_report.py.
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let input = '';
for await (const chunk of process.stdin) input += chunk;
const answers = [];
for (const text of JSON.parse(input)) {
  try {
    const result = await mermaid.parse(text);
    answers.push({ ok: true, type: result.diagramType, error: null });
  } catch (error) {
    answers.push({ ok: false, type: null, error: String(error && error.message ? error.message : error) });
  }
}
process.stdout.write(JSON.stringify(answers));
