package javax.servlet.http;

/** Compile-only stub of the servlet response (javax.servlet on Ignition 8.1). */
public interface HttpServletResponse {
    void setHeader(String name, String value);
}
