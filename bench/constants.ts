/** What every target is asked and answers: the same namespace, keys and value everywhere. */
export const NAMESPACE = 'bench';
/** Written once before the GET runs, then read by them. */
export const GET_KEY = 'bench-get';
/** Overwritten by the SET runs. */
export const SET_KEY = 'bench-set';
/** 64 bytes of UTF-8. */
export const VALUE = 'v'.repeat(64);
export const TTL_SECONDS = 3600;
