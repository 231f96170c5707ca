package com.inductiveautomation.ignition.common.util;

/** Compile-only stub of IA's logger: the builder and the printf-style methods we call; prints to stderr in the JVM test. */
public class LoggerEx {
    private final String name;

    protected LoggerEx(String name) { this.name = name; }

    public static Builder newBuilder() { return new Builder(); }

    public static final class Builder {
        public LoggerEx build(String name) { return new LoggerEx(name); }
        public LoggerEx build(Class<?> clazz) { return new LoggerEx(clazz.getName()); }
    }

    private void out(String level, String msg, Throwable t) {
        System.err.println("[" + level + "] " + name + ": " + msg + (t == null ? "" : " (" + t + ")"));
    }
    public void infof(String format, Object... args) { out("INFO", String.format(format, args), null); }
    public void warnf(String format, Object... args) { out("WARN", String.format(format, args), null); }
    public void errorf(String format, Object... args) { out("ERROR", String.format(format, args), null); }
    public void debugf(String format, Object... args) { out("DEBUG", String.format(format, args), null); }
    public void info(String msg) { out("INFO", msg, null); }
    public void warn(String msg) { out("WARN", msg, null); }
    public void warn(String msg, Throwable t) { out("WARN", msg, t); }
    public void error(String msg, Throwable t) { out("ERROR", msg, t); }
}
