import { defineConfig } from 'vitepress';

// The documentation site. `pnpm --filter @holdfast/docs build` generates the API reference from
// the packages' doc comments (typedoc) and builds the site; a dead internal link fails the build.
export default defineConfig({
  title: 'Holdfast',
  description: 'Actor-style owner loops, typed protocols and supervision for stateful services on Node.js',
  cleanUrls: true,
  lastUpdated: false,
  srcExclude: ['test/**', 'scripts/**', '.samples/**', 'node_modules/**', 'README.md'],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/getting-started' },
      { text: 'API', link: '/api/' },
      { text: 'Benchmarks', link: '/benchmarks' },
    ],
    sidebar: [
      { text: 'Start', items: [{ text: 'Getting started', link: '/getting-started' }] },
      {
        text: 'Concepts',
        items: [
          { text: 'The owner loop', link: '/concepts/owner-loop' },
          { text: 'Reply channels', link: '/concepts/reply-channels' },
          { text: 'Supervision: the steward', link: '/concepts/supervision' },
          { text: 'Worker-hosted actors', link: '/concepts/workers' },
          { text: 'Durable actors', link: '/concepts/durable-actors' },
          { text: 'A cluster', link: '/concepts/cluster' },
          { text: 'Architecture', link: '/concepts/architecture' },
        ],
      },
      {
        text: 'Guides',
        items: [
          { text: 'Running a service', link: '/guides/running-a-service' },
          { text: 'Making actors durable', link: '/guides/durable-actors' },
          { text: 'Deploying a cluster', link: '/guides/deploying-a-cluster' },
          { text: 'The debug REPL', link: '/guides/debug-repl' },
          { text: 'Testing actors', link: '/guides/testing-actors' },
          { text: 'Patterns', link: '/guides/patterns' },
          { text: "From Go's channel patterns", link: '/guides/from-go' },
          { text: 'From nact or xstate', link: '/guides/from-nact-xstate' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'API reference', link: '/api/' },
          { text: 'The debug protocol', link: '/reference/debug-protocol' },
          { text: 'Benchmarks', link: '/benchmarks' },
        ],
      },
    ],
    search: { provider: 'local' },
    outline: [2, 3],
  },
});
