/**
 * What GraphiQL shows at `/graphql`: run SubmitVideo, then FollowTask with the returned id in the
 * variables pane, and watch the task move (a worker must be running: `pnpm start`).
 */
export const GRAPHIQL_DEFAULT_QUERY = `# Welcome to Tasklane.
# 1. Run "SubmitVideo": it queues a video task and returns it at once.
# 2. Put the returned id into the variables below ({"id": "vid_..."}) and run "FollowTask":
#    you get the task's current state, then every change, until it completes.

mutation SubmitVideo {
  submitTask(input: { kind: "video", service: "veo3", input: { prompt: "a lighthouse at dawn, slow pan" } }) {
    id
    status
    createdAt
  }
}

subscription FollowTask($id: ID!) {
  taskUpdated(id: $id) {
    id
    status
    progress
    message
    result
    error { type message }
    version
  }
}

query RecentTasks {
  tasks(first: 10, order: DESC) {
    edges { node { id kind status progress createdAt } }
    pageInfo { hasNextPage endCursor }
  }
  queueStats {
    byStatus { status count }
    totalCapacity { processing cap }
    oldestPendingAgeSeconds
  }
}
`;
