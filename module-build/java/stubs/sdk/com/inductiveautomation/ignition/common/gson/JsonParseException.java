package com.inductiveautomation.ignition.common.gson;

public class JsonParseException extends RuntimeException {
    public JsonParseException(String msg) { super(msg); }
}
