package com.inductiveautomation.perspective.gateway.messages;

import com.inductiveautomation.ignition.common.gson.JsonObject;

/** Compile-only stub; the constructor exists for the JVM test only. */
public class EventFiredMsg {
    private final String eventName;
    private final JsonObject event;
    public EventFiredMsg(String eventName, JsonObject event) { this.eventName = eventName; this.event = event; }
    public String getEventName() { return eventName; }
    public JsonObject getEvent() { return event; }
}
