/**
 * Two UMD outputs into dist/:
 *  - aimonitor-components.js (+ .css): the component bundle Perspective loads. React, ReactDOM,
 *    MobX, mobx-react and PerspectiveClient are externals (page globals), never bundled.
 *  - preview/perspective-stand-in.js: the preview host's stand-in for the Perspective runtime.
 * Plus dist/vendor/*: UMD builds of the externals for the preview host, and dist/size.json.
 * Only the two top-level files are component resources; vendor/ and preview/ are preview-only.
 * Any missing input or output fails the build (unlike the SDK example, which only logs).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dist = resolve(here, 'dist');
const BUNDLE = 'aimonitor-components';
const SIZE_TARGET_GZIP_BYTES = 60 * 1024;

const externals = {
  react: { root: 'React', commonjs: 'react', commonjs2: 'react', amd: 'react' },
  'react-dom': { root: 'ReactDOM', commonjs: 'react-dom', commonjs2: 'react-dom', amd: 'react-dom' },
  'react-dom/client': {
    root: 'ReactDOM',
    commonjs: 'react-dom/client',
    commonjs2: 'react-dom/client',
    amd: 'react-dom',
  },
  mobx: { root: 'mobx', commonjs: 'mobx', commonjs2: 'mobx', amd: 'mobx' },
  'mobx-react': { root: 'mobxReact', commonjs: 'mobx-react', commonjs2: 'mobx-react', amd: 'mobx-react' },
  '@inductiveautomation/perspective-client': {
    root: 'PerspectiveClient',
    commonjs: '@inductiveautomation/perspective-client',
    commonjs2: '@inductiveautomation/perspective-client',
    amd: '@inductiveautomation/perspective-client',
  },
};

/** UMD files the preview host serves under /vendor/ (the same globals Perspective provides). */
const VENDOR = {
  'react.js': 'react/umd/react.production.min.js',
  'react-dom.js': 'react-dom/umd/react-dom.production.min.js',
  'mobx.js': 'mobx/dist/mobx.umd.production.min.js',
  'mobx-react-lite.js': 'mobx-react-lite/dist/mobxreactlite.umd.production.min.js',
  'mobx-react.js': 'mobx-react/dist/mobxreact.umd.production.min.js',
};

/** 'pkg/sub/file.js' -> absolute path, without going through the package's "exports" map. */
function resolveInPackage(spec) {
  const [pkg, ...rest] = spec.split('/');
  return join(dirname(require.resolve(`${pkg}/package.json`)), ...rest);
}

class FailOnMissingPlugin {
  apply(compiler) {
    compiler.hooks.done.tap('FailOnMissing', (stats) => {
      if (stats.hasErrors()) return;
      const out = compiler.options.output.path;
      for (const asset of Object.keys(stats.compilation.assets)) {
        if (!existsSync(join(out, asset))) throw new Error(`build output missing: ${join(out, asset)}`);
      }
    });
  }
}

/** Concatenates the component CSS into one asset (no CSS loader needed for plain CSS). */
class CssAssetPlugin {
  constructor(files, name) {
    this.files = files;
    this.name = name;
  }
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('CssAsset', (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: 'CssAsset', stage: compilation.constructor.PROCESS_ASSETS_STAGE_ADDITIONAL },
        () => {
          const css = this.files
            .map((f) => {
              compilation.fileDependencies.add(f);
              return readFileSync(f, 'utf8');
            })
            .join('\n')
            .replace(/\/\*[\s\S]*?\*\//g, '')
            .replace(/\s*\n\s*/g, '\n')
            .trim();
          compilation.emitAsset(this.name, new compiler.webpack.sources.RawSource(`${css}\n`));
        },
      );
    });
  }
}

/** Copies the vendor UMD files and writes dist/size.json after the component build. */
class PreviewVendorAndSizePlugin {
  apply(compiler) {
    compiler.hooks.afterEmit.tap('VendorAndSize', () => {
      mkdirSync(join(dist, 'vendor'), { recursive: true });
      for (const [name, spec] of Object.entries(VENDOR))
        copyFileSync(resolveInPackage(spec), join(dist, 'vendor', name));
      const files = [`${BUNDLE}.js`, `${BUNDLE}.css`].map((f) => {
        const bytes = readFileSync(join(dist, f));
        return {
          file: f,
          bytes: statSync(join(dist, f)).size,
          gzipBytes: gzipSync(bytes, { level: 9 }).length,
        };
      });
      const gzipTotal = files.reduce((a, f) => a + f.gzipBytes, 0);
      const report = {
        files,
        gzipBytesTotal: gzipTotal,
        targetGzipBytes: SIZE_TARGET_GZIP_BYTES,
        withinTarget: gzipTotal <= SIZE_TARGET_GZIP_BYTES,
        externals: Object.keys(externals),
      };
      writeFileSync(join(dist, 'size.json'), `${JSON.stringify(report, null, 2)}\n`);
      console.log(
        `bundle size: ${files.map((f) => `${f.file} ${f.bytes} B (${f.gzipBytes} B gzip)`).join(', ')}`,
      );
      if (!report.withinTarget)
        throw new Error(`bundle is ${gzipTotal} B gzipped, over the ${SIZE_TARGET_GZIP_BYTES} B target`);
    });
  }
}

const common = (mode) => ({
  mode,
  devtool: 'source-map',
  target: ['web', 'es2019'],
  resolve: {
    extensions: ['.ts', '.tsx', '.js'],
    extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
  },
  module: {
    rules: [
      {
        test: /\.tsx?$/,
        exclude: /node_modules/,
        loader: 'ts-loader',
        options: {
          transpileOnly: true,
          configFile: resolve(here, 'tsconfig.json'),
          compilerOptions: {
            noEmit: false,
            emitDeclarationOnly: false,
            declaration: false,
            composite: false,
            allowImportingTsExtensions: false,
            rewriteRelativeImportExtensions: true,
            jsx: 'react',
            target: 'ES2019',
            module: 'ESNext',
            sourceMap: true,
          },
        },
      },
    ],
  },
  externals,
  performance: { hints: false },
});

export default (_env, argv) => {
  const mode = argv.mode ?? 'production';
  return [
    {
      ...common(mode),
      name: 'component',
      entry: resolve(here, 'src/index.ts'),
      output: {
        path: dist,
        filename: `${BUNDLE}.js`,
        library: { name: 'AiMonitorComponents', type: 'umd' },
        globalObject: 'globalThis',
      },
      plugins: [
        new CssAssetPlugin(
          [resolve(here, 'src/components/recommendations/recommendations.css')],
          `${BUNDLE}.css`,
        ),
        new FailOnMissingPlugin(),
        new PreviewVendorAndSizePlugin(),
      ],
    },
    {
      ...common(mode),
      name: 'stand-in',
      entry: resolve(here, 'preview/stand-in/perspective-stand-in.ts'),
      output: {
        // A subfolder on purpose: module-build registers every top-level dist/*.js as a Perspective
        // BrowserResource, and the stand-in must never load inside a real session.
        path: join(dist, 'preview'),
        filename: 'perspective-stand-in.js',
        library: { name: 'PerspectiveClient', type: 'umd' },
        globalObject: 'globalThis',
      },
      plugins: [new FailOnMissingPlugin()],
    },
  ];
};
