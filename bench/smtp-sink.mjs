/**
 * A local SMTP sink for the delivery benchmark: accepts everything on 127.0.0.1, counts messages,
 * keeps nothing. Runs as its own process (its CPU is not the client's), started by bench/deliver.mjs
 * over IPC: it sends { port } once listening and answers "count" with { count }.
 */
import { SMTPServer } from "smtp-server";

let count = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onData(stream, _session, callback) {
    stream.on("data", () => {});
    stream.on("end", () => {
      count++;
      callback();
    });
  },
});
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.server.address().port }));
process.on("message", (message) => {
  if (message === "count") process.send?.({ count });
  if (message === "stop") server.close(() => process.exit(0));
});
process.on("disconnect", () => process.exit(0));
