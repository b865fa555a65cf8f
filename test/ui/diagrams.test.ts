// The pictures in docs/ are generated from the declared models: they must match them, state by state.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { diagramFiles } from '../../src/dev/write-diagrams';
import { pizzaOrderModel } from '../../src/shared/pizza-order';
import { smokeAlarmModel } from '../../src/shared/smoke-alarm';
import { edgeId, modelToMermaid, modelToSvg } from '../../src/ui/state-diagram';

const root = resolve(__dirname, '../..');

describe('state diagrams', () => {
  test.each(Object.keys(diagramFiles()))(
    'When %s is read, then it is what npm run diagrams writes',
    (path) => {
      expect(readFileSync(resolve(root, path), 'utf8')).toBe(diagramFiles()[path]);
    },
  );

  test.each([
    ['smoke-alarm', smokeAlarmModel],
    ['pizza-order', pizzaOrderModel],
  ] as const)(
    'When the %s model is drawn, then every state and transition is in the SVG and the Mermaid text',
    (_kind, model) => {
      const svg = modelToSvg(model);
      const mermaid = modelToMermaid(model);
      for (const state of model.decl.states) {
        expect(svg).toContain(`data-state="${state}"`);
        expect(mermaid).toContain(`state "${state}"`);
      }
      for (const t of model.decl.transitions) expect(svg).toContain(`data-edge="${edgeId(t)}"`);
      expect(svg.match(/class="edge"/g)).toHaveLength(model.decl.transitions.length);
      expect(mermaid.split('\n').filter((l) => l.includes('-->') && !l.includes('[*]'))).toHaveLength(
        model.decl.transitions.length,
      );
    },
  );
});
