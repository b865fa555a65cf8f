// The /ui timeline from a recorded history: what people read of a session, names and outcomes only.
import { resolve } from 'node:path';
import { readHistory } from '../../src/ui/session-history';
import { readHistoryFile } from '../support/history-files';

const recorded = (name: string) =>
  readHistoryFile(resolve(__dirname, '../workflows/histories/smoke-alarm/2026-11-30-local-siren', name));

describe('session timeline', () => {
  test('When siren commands ran inside the session’s task (local activities), then the timeline names them with their outcome, and the durable command that took over', () => {
    // Recorded with the board still connecting as the alarm opened: the first try failed, the activity
    // took the command over; the siren-off later ran in the task.
    const texts = readHistory(recorded('cancelled.json')).timeline.map((t) => t.text);
    const failed = texts.findIndex((t) => t.startsWith('setSiren failed in the task: board of home'));
    expect(failed).toBeGreaterThan(texts.indexOf('signal smokeDetected'));
    expect(texts[failed + 1]).toBe('setSiren scheduled');
    expect(texts.indexOf('setSiren done in the task')).toBeGreaterThan(
      texts.indexOf('update cancel answered'),
    );
    expect(texts.some((t) => t.startsWith('local activity'))).toBe(false);
  });
});
