package com.inductiveautomation.ignition.common.gson;

public final class JsonSyntaxException extends JsonParseException {
    public JsonSyntaxException(String msg) { super(msg); }
}
