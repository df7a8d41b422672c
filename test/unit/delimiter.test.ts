import { describe, expect, it } from "vitest";
import { firstLine, parseDelimiterSetting, sniffDelimiter } from "../../src/import/read/delimiter.js";

describe("sniffDelimiter", () => {
  it("comma", () => {
    expect(sniffDelimiter("order_id,ordered_at,email,total")).toBe(",");
  });
  it("semicolon", () => {
    expect(sniffDelimiter("Номер заказа;Дата заказа;Покупатель")).toBe(";");
  });
  it("tab", () => {
    expect(sniffDelimiter("order id\tdate\temail")).toBe("\t");
  });
  it("pipe", () => {
    expect(sniffDelimiter("id|name|price")).toBe("|");
  });
  it("ignores commas inside quoted header names", () => {
    expect(sniffDelimiter('"Name, first";"Name, last";"Total, EUR, gross";Date')).toBe(";");
  });
  it("ignores delimiters inside escaped quotes", () => {
    expect(sniffDelimiter('"a ""x,y,z"" b"|c|d')).toBe("|");
  });
  it("the most frequent wins even with others present", () => {
    expect(sniffDelimiter("a;b;c;d,e")).toBe(";");
    expect(sniffDelimiter("a|b|c\td")).toBe("|");
  });
  it("ties go , ; tab |", () => {
    expect(sniffDelimiter("a,b;c")).toBe(",");
    expect(sniffDelimiter("a;b\tc")).toBe(";");
    expect(sniffDelimiter("a|b\tc")).toBe("\t");
  });
  it("none → comma", () => {
    expect(sniffDelimiter("email")).toBe(",");
    expect(sniffDelimiter("")).toBe(",");
  });
});

describe("parseDelimiterSetting", () => {
  it("accepts the known settings", () => {
    expect(parseDelimiterSetting("auto")).toBe("auto");
    expect(parseDelimiterSetting(",")).toBe(",");
    expect(parseDelimiterSetting(";")).toBe(";");
    expect(parseDelimiterSetting("\t")).toBe("\t");
    expect(parseDelimiterSetting("tab")).toBe("\t");
    expect(parseDelimiterSetting("|")).toBe("|");
  });
  it("rejects anything else with a ConfigError (exit 78)", () => {
    for (const bad of [":", "", ",,", "comma"]) {
      let caught: (Error & { exitCode?: number }) | undefined;
      try {
        parseDelimiterSetting(bad);
      } catch (err) {
        caught = err as Error & { exitCode?: number };
      }
      expect(caught?.name).toBe("ConfigError");
      expect(caught?.exitCode).toBe(78);
      expect(caught?.message).toContain(JSON.stringify(bad));
    }
  });
});

describe("firstLine", () => {
  it("stops at LF or CR", () => {
    expect(firstLine("a,b\n1,2\n")).toBe("a,b");
    expect(firstLine("a;b\r\n1;2")).toBe("a;b");
    expect(firstLine("a|b\r1|2")).toBe("a|b");
  });
  it("keeps a quoted line break", () => {
    expect(firstLine('id,"Delivery\naddress",total\n1,x,2')).toBe('id,"Delivery\naddress",total');
  });
  it("no line break → the whole text", () => {
    expect(firstLine("a,b,c")).toBe("a,b,c");
  });
});
