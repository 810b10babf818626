/** `POST /send-notification/{email}`: the seed's first example. */
import { Elysia, t } from "elysia";
import { backgroundTasks } from "@background/tasks/elysia";
import { runner } from "../runner.ts";
import { Busy, Email, Failure, Message } from "../schemas.ts";
import { writeLog } from "../tasks/writeLog.ts";

export const notificationRoutes = new Elysia({ name: "routes/notifications" })
  .use(backgroundTasks(runner))
  .post("/send-notification/:email", ({ params, backgroundTasks }) => {
    backgroundTasks.addTask(writeLog, `Sending notification to ${params.email}`);
    return { message: "Notification sent in the background" };
  }, {
    params: t.Object({ email: Email }),
    response: {
      200: Message("Notification sent in the background"),
      422: Failure(422, "The email is not a valid address.", "Invalid params email: Property 'email' should be email."),
      503: Busy,
    },
    detail: {
      tags: ["notifications"],
      summary: "Send a notification",
      description: "Answers at once; a line `Sending notification to {email}` is appended to `DATA_DIR/log.txt` " +
        "after the response has been sent.",
    },
  });
