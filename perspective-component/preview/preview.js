/*
 * Preview host: mounts the registered component on the stand-in Perspective runtime with the
 * 'http' transport against this sidecar. The bearer token comes, in this order, from
 * window.__AIMONITOR__.token, <meta name="sidecar-token"> (the sidecar injects the demo operator
 * token for loopback requests), or a #token=... fragment (never sent to the server).
 * Query parameters override props: ?apiBaseUrl=...&transport=http&pageSize=...
 */
(function () {
  'use strict';
  var TYPE = 'aimonitor.display.recommendations';
  var cfg = (window.__AIMONITOR__ = window.__AIMONITOR__ || {});
  var meta = document.querySelector('meta[name="sidecar-token"]');
  var fragment = new URLSearchParams(location.hash.slice(1));
  if (!cfg.token && fragment.get('token')) cfg.token = fragment.get('token');
  else if (!cfg.token && meta && meta.content) cfg.token = meta.content;

  var form = document.getElementById('pv-token-form');
  if (!cfg.token) {
    form.hidden = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var value = document.getElementById('pv-token-input').value.trim();
      if (value) {
        location.hash = 'token=' + encodeURIComponent(value);
        location.reload();
      }
    });
  }

  var query = new URLSearchParams(location.search);
  var props = {
    transport: query.get('transport') || 'http',
    apiBaseUrl: query.get('apiBaseUrl') || '/api',
    pageSize: Number(query.get('pageSize') || 25),
  };
  var log = document.getElementById('pv-events');
  var mounted = window.PerspectiveClient.mountComponent(TYPE, document.getElementById('pv-component'), {
    props: props,
    onComponentEvent: function (fired) {
      var li = document.createElement('li');
      li.textContent = new Date().toLocaleTimeString() + ' ' + fired.name + ' ' + JSON.stringify(fired.event);
      log.prepend(li);
    },
  });
  window.__AIMONITOR_PREVIEW__ = mounted;

  function toggle(id, apply) {
    var button = document.getElementById(id);
    button.addEventListener('click', function () {
      var on = button.getAttribute('aria-pressed') !== 'true';
      button.setAttribute('aria-pressed', String(on));
      apply(on);
    });
  }
  toggle('pv-theme', function (on) {
    document.documentElement.setAttribute('data-theme', on ? 'dark' : 'light');
  });
  toggle('pv-width', function (on) {
    document.getElementById('pv-frame').classList.toggle('pv-narrow', on);
  });
  toggle('pv-design', function (on) {
    mounted.setEventsEnabled(!on);
  });
  if (query.get('theme') === 'dark') document.getElementById('pv-theme').click();
})();
