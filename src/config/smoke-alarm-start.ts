// The one way a smoke event opens or joins a session, used by the API (device token) and by gateways
// (detector pins): the same workflow id, input from configuration, and the same signal.
import type { Client, WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { smokeAlarmWorkflowId, smokeDetectedSignal, type SmokeEvent } from '../shared/smoke-alarm';
import type { smokeAlarmWorkflow } from '../workflows/smoke-alarm';
import { cancelWindowMs, hardwareTaskQueue, type Config } from './config';

/** Open-or-join by business key: the first event starts the session, later ones join it. */
export function signalSmokeDetected(
  client: Client,
  config: Config,
  homeId: string,
  event: SmokeEvent,
): Promise<WorkflowHandleWithSignaledRunId<typeof smokeAlarmWorkflow>> {
  return client.workflow.signalWithStart<typeof smokeAlarmWorkflow, [SmokeEvent]>('smokeAlarmWorkflow', {
    workflowId: smokeAlarmWorkflowId(homeId),
    taskQueue: config.temporal.taskQueue,
    args: [
      {
        homeId,
        cancelWindowMs: cancelWindowMs(config, homeId),
        wrapUpTimeoutMs: config.alarm.wrapUpTimeoutSeconds * 1000,
        // Siren commands go to the gateway that owns this home's board.
        hardwareTaskQueue: hardwareTaskQueue(config, homeId),
      },
    ],
    signal: smokeDetectedSignal,
    signalArgs: [event],
  });
}
