/** Any JSON value: what the `JSON` scalar carries (task input and results). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object, the usual shape of a task's input. */
export type JsonObject = { [key: string]: JsonValue };
