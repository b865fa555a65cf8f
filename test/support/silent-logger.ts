import pino from 'pino';

/** Tests keep logs quiet unless LOG_LEVEL asks for them. */
export const testLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
