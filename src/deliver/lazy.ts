/**
 * Handlebars and nodemailer take about 130 ms to load, a quarter of a command's start-up; only the
 * commands that render or send need them, so they are loaded on first use instead of at start.
 */
import { createRequire } from "node:module";
import type HandlebarsModule from "handlebars";
import type NodemailerModule from "nodemailer";

const require = createRequire(import.meta.url);

export function handlebars(): typeof HandlebarsModule {
  return require("handlebars") as typeof HandlebarsModule;
}

export function nodemailer(): typeof NodemailerModule {
  return require("nodemailer") as typeof NodemailerModule;
}
