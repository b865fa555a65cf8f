// The worker's side of the read-model sink: workflows publish a status change; this writes it to the
// store, synchronously, before the worker reports the workflow task complete.
import { Runtime, type InjectedSinks } from '@temporalio/worker';
import { sessionPublicationSchema, type ReadModelSinks } from '../shared/session-change';
import type { ReadModelStore } from './store';

export function readModelSinks(store: ReadModelStore): InjectedSinks<ReadModelSinks> {
  return {
    readModel: {
      publish: {
        fn: (_info, publication) => {
          try {
            store.write(sessionPublicationSchema.parse(publication));
          } catch (err) {
            // A lost publication is repaired by the API's sync from Temporal; the session goes on.
            Runtime.instance().logger.warn('read model publication lost; the sync repairs it', {
              workflowId: publication.workflowId,
              version: publication.version,
              error: String(err),
            });
          }
        },
        // A replayed activation published when it first ran.
        callDuringReplay: false,
      },
    },
  };
}
