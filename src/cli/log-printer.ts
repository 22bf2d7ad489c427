/** Prints log lines: for a terminal (time, level, source, message; the default) or as JSON lines for log shippers (pino). */
import { pino } from "pino";
import { ERROR, INFO, WARNING, type LogData } from "../kernel/index.js";

export type LogFormat = "human" | "json";
export const LOG_FORMATS: readonly LogFormat[] = ["human", "json"];

function levelName(level: number): string {
  if (level >= ERROR) return "ERROR";
  if (level >= WARNING) return "WARN ";
  if (level >= INFO) return "INFO ";
  return "DEBUG";
}

export function formatLog(log: LogData): string {
  const time = log.time.toString().replace(/(\.\d{3})\d{3}$/, "$1");
  return `${time}  ${levelName(log.level)}  ${log.gateway_name.padEnd(12)} ${log.msg}`;
}

export interface LogPrinter {
  /** A log line of the engine (eLog). */
  log(log: LogData): void;
  /** A line of the command itself (the console address). */
  note(text: string): void;
}

/** Lines go to `out` without their trailing newline. */
export function logPrinter(format: LogFormat, out: (line: string) => void): LogPrinter {
  if (format === "human") return { log: (log) => out(formatLog(log)), note: out };
  const logger = pino(
    { base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, level: "debug" },
    { write: (line: string) => out(line.trimEnd()) },
  );
  return {
    // VeighNa's levels (10 debug ... 50 critical) onto pino's; the source keeps VeighNa's field name.
    log: (log) => {
      const fields = { source: log.gateway_name, level_vnpy: log.level };
      if (log.level >= 50) logger.fatal(fields, log.msg);
      else if (log.level >= ERROR) logger.error(fields, log.msg);
      else if (log.level >= WARNING) logger.warn(fields, log.msg);
      else if (log.level >= INFO) logger.info(fields, log.msg);
      else logger.debug(fields, log.msg);
    },
    note: (text) => logger.info({ source: "serve" }, text),
  };
}
