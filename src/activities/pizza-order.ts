// Side effects of a pizza order: payments through the provider, notices through the shared Notifier.
import { ApplicationFailure } from '@temporalio/activity';
import type { PizzaOrderActivities } from '../shared/pizza-order';
import type { ActivityDeps } from '.';
import { PaymentDeclinedError } from './payment-provider';

/** A decline is an answer, not an outage: retrying would only decline again. */
function asActivityError(err: unknown): unknown {
  return err instanceof PaymentDeclinedError
    ? ApplicationFailure.nonRetryable(err.message, 'PaymentDeclined')
    : err;
}

export function activities({ payments, notifier }: ActivityDeps): PizzaOrderActivities {
  return {
    chargePayment: (input) =>
      payments.charge(input).catch((err: unknown) => {
        throw asActivityError(err);
      }),
    refundPayment: (input) =>
      payments.refund(input).catch((err: unknown) => {
        throw asActivityError(err);
      }),
    notifyCustomer: ({ orderId, idempotencyKey, to, text }) =>
      notifier.sms({ orderId, idempotencyKey, to, text }),
  };
}
