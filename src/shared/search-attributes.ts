// Search attributes every session keeps current (src/workflows/session.ts), so Temporal visibility (and
// its Web UI) can list sessions by kind, key and business state, and by who they belong to (a home, a
// customer): the API's access rules read those. Kinds may declare more of their own.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SessionKind = defineSearchAttributeKey('SessionKind', SearchAttributeType.KEYWORD);
export const SessionKey = defineSearchAttributeKey('SessionKey', SearchAttributeType.KEYWORD);
export const SessionState = defineSearchAttributeKey('SessionState', SearchAttributeType.KEYWORD);
export const HomeId = defineSearchAttributeKey('HomeId', SearchAttributeType.KEYWORD);
/** The customer's token name (or `guest`) of sessions a customer started, so they list only their own. */
export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** The platform's search attributes (with the kinds' own: `searchAttributeKeys()` in config/kinds). */
export const allSearchAttributeKeys = [SessionKind, SessionKey, SessionState, HomeId, CustomerId];
