// `npm run diagrams`: each session model as SVG and Mermaid text under docs/diagrams/, generated from
// the declared models (a test fails when the committed files no longer match them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { runMain } from '../config/run-main';
import { sessionKinds } from '../config/kinds';
import { modelToMermaid, modelToSvg } from '../ui/state-diagram';
import { projectRoot } from './local-paths';

export const DIAGRAM_DIR = resolve(projectRoot, 'docs/diagrams');

/** The files `npm run diagrams` writes, by path relative to the project. */
export function diagramFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const { name, model } of sessionKinds()) {
    files[`docs/diagrams/${name}.svg`] = modelToSvg(model);
    files[`docs/diagrams/${name}.mmd`] = modelToMermaid(model);
  }
  return files;
}

async function main() {
  mkdirSync(DIAGRAM_DIR, { recursive: true });
  for (const [path, text] of Object.entries(diagramFiles())) {
    writeFileSync(resolve(projectRoot, path), text);
    process.stdout.write(`wrote ${path}\n`);
  }
  return Promise.resolve();
}

if (require.main === module) runMain('diagrams', main);
