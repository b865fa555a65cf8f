// Search attributes every session kind keeps current, so Temporal visibility (and its Web UI)
// can list sessions by kind, key and business state. Registered by the dev server launcher.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SessionKind = defineSearchAttributeKey('SessionKind', SearchAttributeType.KEYWORD);
export const SessionKey = defineSearchAttributeKey('SessionKey', SearchAttributeType.KEYWORD);
export const SessionState = defineSearchAttributeKey('SessionState', SearchAttributeType.KEYWORD);
export const HomeId = defineSearchAttributeKey('HomeId', SearchAttributeType.KEYWORD);
/** Pizza orders: the customer's token name (or `guest`), so customers list only their own orders. */
export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);

/** Every custom search attribute the project uses, for registering them with a server. */
export const allSearchAttributeKeys = [SessionKind, SessionKey, SessionState, HomeId, CustomerId];
