// Payments behind one small interface. Only a fake provider ships: it behaves like a real one where it
// matters to the session (idempotency keys, declines, refunds), so the order story runs end to end.
import { randomUUID } from 'node:crypto';

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  /** A provider's payment-method reference, never card data. */
  paymentMethod: string;
  idempotencyKey: string;
  orderId: string;
}

export interface RefundRequest {
  paymentId: string;
  amountCents: number;
  idempotencyKey: string;
  orderId: string;
}

export class PaymentDeclinedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

export interface PaymentProvider {
  /** Charges once per idempotency key: a repeated key answers the first result again. */
  charge(req: ChargeRequest): Promise<{ paymentId: string }>;
  /** Refunds once per idempotency key. */
  refund(req: RefundRequest): Promise<{ refundId: string }>;
}

/** Payment methods the fake provider declines, named like a real provider's test methods. */
export const FAKE_DECLINED_METHODS = ['pm_card_declined', 'pm_card_insufficient_funds'];

export interface FakeCharge extends ChargeRequest {
  paymentId: string;
}
export interface FakeRefund extends RefundRequest {
  refundId: string;
}

/**
 * In-memory provider for the demo and tests (`payments.provider: "fake"`): never moves money. It keeps
 * what it did so tests can count charges and refunds at the provider, not in the workflow.
 */
export class FakePaymentProvider implements PaymentProvider {
  readonly charges: FakeCharge[] = [];
  readonly refunds: FakeRefund[] = [];
  /** Calls to fail with a transient error before answering (provider outage). */
  failNext = 0;
  private readonly byKey = new Map<string, object>();

  charge(req: ChargeRequest): Promise<{ paymentId: string }> {
    return this.once(req.idempotencyKey, () => {
      if (FAKE_DECLINED_METHODS.includes(req.paymentMethod)) {
        return new PaymentDeclinedError(`card declined (${req.paymentMethod})`);
      }
      const paymentId = `pay_${randomUUID()}`;
      this.charges.push({ ...req, paymentId });
      return { paymentId };
    });
  }

  refund(req: RefundRequest): Promise<{ refundId: string }> {
    return this.once(req.idempotencyKey, () => {
      const refundId = `re_${randomUUID()}`;
      this.refunds.push({ ...req, refundId });
      return { refundId };
    });
  }

  private async once<T extends object>(key: string, act: () => T | PaymentDeclinedError): Promise<T> {
    await Promise.resolve();
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('payment provider unavailable (503)');
    }
    let result = this.byKey.get(key) as T | PaymentDeclinedError | undefined;
    if (result === undefined) {
      result = act();
      this.byKey.set(key, result);
    }
    if (result instanceof PaymentDeclinedError) throw result;
    return result;
  }
}
