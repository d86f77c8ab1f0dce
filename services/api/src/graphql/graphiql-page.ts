import type { GraphiQLOptions } from 'graphql-yoga';
import { FAVICON_PATH } from '../favicon-route.ts';

const pages = new Map<string, Promise<string>>();

/**
 * Yoga's `renderGraphiQL`: GraphiQL with its JavaScript, CSS and editor workers inline in the page
 * (`@graphql-yoga/render-graphiql`), so it works with no internet; Yoga's default page loads them
 * from a CDN. The bundle is some 9 MB of JavaScript: it is loaded on the first GraphiQL request,
 * not at start, and each page is rendered once.
 */
export function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(options);
  let page = pages.get(key);
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL({ ...options, favicon: FAVICON_PATH }));
    pages.set(key, page);
  }
  return page;
}
