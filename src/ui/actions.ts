// The actions a session's /ui page offers: each request of its kind that drives a transition the model
// allows from the current state, as the public API call any client would make.
import type { Principal } from '../api/auth';
import { homeRoles, sessionId, type AnySessionKind, type StatusCommon } from '../shared/session-kind';

export interface UiAction {
  /** The model transition it drives, e.g. `cancel` or `kitchen:baked`. */
  on: string;
  label: string;
  method: 'POST';
  /** A public API route: the page acts exactly as any client would. */
  path: string;
  body?: unknown;
}

/** Whether the caller holds one of the request's roles for this session (it may see the session). */
function mayAct(p: Principal, kind: AnySessionKind, key: string, roles: readonly string[]): boolean {
  if (p.role === 'operator') return roles.some((r) => r !== 'device');
  if (!roles.includes(p.role)) return false;
  if (homeRoles.includes(p.role)) return kind.homeOf?.(key) === p.homeId;
  if (p.role === 'session') return p.sessionId === sessionId(kind, key);
  return true;
}

export function actionsFor(
  kind: AnySessionKind,
  key: string,
  status: StatusCommon,
  p: Principal,
): UiAction[] {
  const out: UiAction[] = [];
  for (const t of kind.model.decl.transitions) {
    if (t.from !== status.state || out.some((a) => a.on === t.on)) continue;
    for (const [name, request] of Object.entries(kind.requests)) {
      const offer = request.action?.(t.on, status);
      if (!offer || !mayAct(p, kind, key, request.roles)) continue;
      out.push({
        on: t.on,
        label: offer.label,
        method: 'POST',
        path: `/sessions/${kind.name}/${encodeURIComponent(key)}/requests/${name}`,
        ...(offer.body === undefined ? {} : { body: offer.body }),
      });
      break;
    }
  }
  return out;
}
