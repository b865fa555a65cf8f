// The worker's side of the read-model sink: workflows publish a status change; this writes it to the
// store, synchronously, before the worker reports the workflow task complete.
import type { InjectedSinks } from '@temporalio/worker';
import type { Logger } from '../config/logger';
import { sessionPublicationSchema, type ReadModelSinks } from '../shared/session-change';
import type { ReadModelStore } from './store';

export function readModelSinks(store: ReadModelStore, logger?: Logger): InjectedSinks<ReadModelSinks> {
  return {
    readModel: {
      publish: {
        fn: (_info, publication) => {
          try {
            store.write(sessionPublicationSchema.parse(publication));
          } catch (err) {
            // A lost publication is repaired by the API's sync from Temporal; the session goes on.
            logger?.warn({ workflowId: publication.workflowId, err: String(err) }, 'publication lost');
          }
        },
        // A replayed activation published when it first ran.
        callDuringReplay: false,
      },
    },
  };
}
