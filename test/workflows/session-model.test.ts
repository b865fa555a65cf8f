// The declared session models: what each workflow may do, and nothing else.
import { pizzaOrderModel } from '../../src/shared/pizza-order';
import { UndeclaredTransitionError, type SessionModel } from '../../src/shared/session-model';
import { smokeAlarmModel } from '../../src/shared/smoke-alarm';

describe('smoke-alarm session model', () => {
  test('When a declared transition is taken, then the new state is returned', () => {
    expect(smokeAlarmModel.move('waiting-for-cancel', 'escalated', 'timer:cancel-window')).toBe('escalated');
    expect(smokeAlarmModel.move('escalated', 'resolved', 'allClear')).toBe('resolved');
  });

  test.each([
    ['escalated', 'cancelled', 'cancel'],
    ['waiting-for-cancel', 'resolved', 'allClear'],
    ['cancelled', 'escalated', 'smokeDetected'],
    ['waiting-for-cancel', 'escalated', 'allClear'],
  ] as const)('When %s -> %s on %s is attempted, then it is refused', (from, to, on) => {
    expect(() => smokeAlarmModel.move(from, to, on)).toThrow(UndeclaredTransitionError);
  });
});

describe('pizza-order session model', () => {
  test.each([
    ['awaiting-payment', 'in-kitchen', 'kitchen:accepted'],
    ['out-for-delivery', 'cancelled', 'cancel'],
    ['delivered', 'cancelled', 'cancel'],
    ['paid', 'cancelled', 'timer:payment-timeout'],
    ['ready', 'out-for-delivery', 'kitchen:picked-up'],
  ] as const)('When %s -> %s on %s is attempted, then it is refused', (from, to, on) => {
    expect(() => pizzaOrderModel.move(from, to, on)).toThrow(UndeclaredTransitionError);
  });
});

describe.each([
  ['smoke-alarm', smokeAlarmModel as SessionModel<string>],
  ['pizza-order', pizzaOrderModel as SessionModel<string>],
])('%s model', (_kind, model) => {
  test('When the model is read, then its final states have no way out and every state is reachable', () => {
    const { states, final, transitions, initial } = model.decl;
    for (const f of final) expect(transitions.filter((t) => t.from === f)).toEqual([]);
    const reached = new Set<string>([initial]);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of transitions)
        if (reached.has(t.from) && !reached.has(t.to)) grew = Boolean(reached.add(t.to));
    }
    expect([...reached].sort()).toEqual([...states].sort());
  });
});
