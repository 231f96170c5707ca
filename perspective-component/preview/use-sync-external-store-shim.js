/*
 * The UMD build of mobx-react-lite reads the global `shim` (use-sync-external-store/shim). With
 * React 18 that package only re-exports React's own hook, so the preview provides exactly that.
 */
(function (root) {
  root.shim = { useSyncExternalStore: root.React.useSyncExternalStore };
})(globalThis);
