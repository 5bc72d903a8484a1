// Resolves true once the page has been quiet for `ms` (false at `limit`): see watch.js.
([ms, limit]) => window.__stageCheck.settle(ms, limit)
