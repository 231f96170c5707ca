package com.inductiveautomation.ignition.common.jsonschema;

import com.inductiveautomation.ignition.common.gson.JsonObject;
import com.inductiveautomation.ignition.common.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Compile-only stub: parse(InputStream) and new JsonSchema(JsonObject), as used by the SDK examples. */
public class JsonSchema {
    private final JsonObject json;
    public JsonSchema(JsonObject json) { this.json = json; }
    public static JsonSchema parse(InputStream in) throws IOException {
        return new JsonSchema(JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject());
    }
    /** Stub-only accessor so the JVM test can inspect the schema; not called by module code. */
    public JsonObject stubJson() { return json; }
}
