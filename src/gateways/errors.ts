/** A gateway configuration that cannot be used: names where it came from (a file or a flag) and the field. */
export class GatewayConfigError extends Error {
  readonly code = "ERR_GATEWAY_CONFIG";
  /** The file (or flag) the configuration came from. */
  readonly source: string;
  /** The offending field, dotted ("setting.req_address"), or "" for the whole entry. */
  readonly field: string;

  constructor(source: string, field: string, message: string) {
    super(`${source}${field ? `: ${field}` : ""}: ${message}`);
    this.name = "GatewayConfigError";
    this.source = source;
    this.field = field;
  }
}

/** A management call on a gateway that cannot be done (unknown name, already connected...). */
export class GatewayManagerError extends Error {
  readonly code: "ERR_GATEWAY_UNKNOWN" | "ERR_GATEWAY_STATE";

  constructor(code: "ERR_GATEWAY_UNKNOWN" | "ERR_GATEWAY_STATE", message: string) {
    super(message);
    this.name = "GatewayManagerError";
    this.code = code;
  }
}
