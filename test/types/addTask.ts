// Compiled by `npm test` (typecheck types): every @ts-expect-error must be an error.
import { BackgroundTasks, defineTask, type TaskContext, TaskRunner } from "../../src/mod.ts";

function sendEmail(to: string, subject: string): void {
  void to;
  void subject;
}
async function resize(this: TaskContext, url: string, width: number): Promise<void> {
  void this.signal;
  void url;
  void width;
}

const tasks = new BackgroundTasks();
tasks.addTask(sendEmail, "ada@example.com", "Welcome");
tasks.addTask(resize, "https://example.com/a.png", 200);
tasks.addTask(() => {});
tasks.addTask(async () => {});

// @ts-expect-error a number where sendEmail takes a string
tasks.addTask(sendEmail, 42, "Welcome");
// @ts-expect-error a missing argument
tasks.addTask(sendEmail, "ada@example.com");
// @ts-expect-error an extra argument
tasks.addTask(sendEmail, "ada@example.com", "Welcome", "extra");
// @ts-expect-error width must be a number
tasks.addTask(resize, "https://example.com/a.png", "200");
// @ts-expect-error the result of a call is not a task
tasks.addTask(sendEmail("ada@example.com", "Welcome"));

const runner = new TaskRunner();
runner.addTask(sendEmail, "ada@example.com", "Welcome");
// @ts-expect-error runner.addTask checks arguments too
runner.addTask(sendEmail, 42);

const named = defineTask("send-email", sendEmail, { retries: 2 });
tasks.addTask(named, "ada@example.com", "Welcome");
// @ts-expect-error a defined task keeps its parameter types
tasks.addTask(named, 1, 2);
