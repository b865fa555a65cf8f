// Every workflow the worker registers: one line per session kind.
export { smokeAlarmWorkflow } from './smoke-alarm';
export { pizzaOrderWorkflow } from './pizza-order';
