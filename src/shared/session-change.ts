// One published state of one session: what a workflow publishes whenever its status changes, what the
// read model keeps (the newest per session) and what the change feed streams (every one, in order).
import { defineQuery, type Sinks } from '@temporalio/workflow';
import { z } from 'zod';

export const sessionPublicationSchema = z.strictObject({
  workflowId: z.string(),
  runId: z.string(),
  kind: z.string(),
  key: z.string(),
  /** Grows with every change of this session, across continue-as-new: newer always wins. */
  version: z.number().int().nonnegative(),
  /** Workflow time of the change. */
  asOf: z.string(),
  state: z.string(),
  /** The state is final in the kind's model: the session is ending or closed. */
  final: z.boolean(),
  homeId: z.string().nullable(),
  customerId: z.string().nullable(),
  /** The kind's status, as its status query answers it. */
  status: z.record(z.string(), z.unknown()),
});
export type SessionPublication = z.infer<typeof sessionPublicationSchema>;

export const sessionChangeSchema = sessionPublicationSchema.extend({
  /** Position in the change log: the server-sent event id a dropped stream resumes after. */
  seq: z.number().int().positive(),
});
export type SessionChange = z.infer<typeof sessionChangeSchema>;

/** The version and status a session last published: the read model's sync asks for it. */
export const sessionPublicationQuery =
  defineQuery<Pick<SessionPublication, 'version' | 'asOf' | 'status'>>('sessionflow.publication');

/** The sink a workflow publishes through (the worker's side: src/read-model/sink.ts). */
export interface ReadModelSinks extends Sinks {
  readModel: { publish(publication: SessionPublication): void };
}
